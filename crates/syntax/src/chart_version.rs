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

/// An exact chart version as a Helm repository publishes it: some charts (cert-manager's)
/// put a `v` before the same exact version.
pub fn check_published_version(value: &str) -> Result<(), String> {
    check_chart_version(value.strip_prefix('v').unwrap_or(value))
        .map_err(|_| format!("`{value}` is not an exact chart version; expected an exact version such as 0.34.1 or v1.21.1"))
}

#[cfg(test)]
mod tests {
    use super::{check_chart_version, check_published_version};

    #[test]
    fn a_published_version_may_carry_a_v() {
        assert_eq!(check_published_version("v1.21.1"), Ok(()));
        assert_eq!(check_published_version("0.34.1"), Ok(()));
        for bad in ["v", "v1.2", "vv1.2.3", "v1.2.x", "^v1.2.3"] {
            assert!(check_published_version(bad).is_err(), "{bad:?} accepted");
        }
    }

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
