/// An exact chart version, `MAJOR.MINOR.PATCH[-PRERELEASE]`: a range, a `v` prefix or
/// `latest` would let a new release change the cluster without a commit.
pub fn check_chart_version(value: &str) -> Result<(), String> {
    let expected = "an exact version such as 0.34.1 (no range, no `v` prefix)";
    let (core, pre_release) = value.split_once('-').unwrap_or((value, ""));
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && (*p == "0" || !p.starts_with('0'))
    };
    let pre_release_ok = !value.contains('-')
        || (!pre_release.is_empty()
            && pre_release
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if parts.len() == 3 && parts.iter().all(numeric) && pre_release_ok {
        Ok(())
    } else {
        Err(format!(
            "`{value}` is not an exact chart version; expected {expected}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_chart_version;

    #[test]
    fn only_exact_versions_pass() {
        for good in ["0.34.1", "10.1.1", "1.0.0-rc.1"] {
            assert_eq!(check_chart_version(good), Ok(()), "{good}");
        }
        for bad in [
            "", "1.2", "v1.2.3", "^1.2.3", "1.2.x", "01.2.3", "latest", "1.2.3-",
        ] {
            assert!(check_chart_version(bad).is_err(), "{bad:?} accepted");
        }
    }
}
