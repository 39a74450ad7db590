/// A Git URL Argo CD can clone: `https://host/path`, `ssh://[user@]host[:port]/path`, or the
/// scp-like `user@host:path`. Anything else (a URL without a scheme, plain `http://`, a local
/// path) is cloned by nobody, and Argo CD would only say so at sync time.
pub fn check_repo_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git";
    if url.trim().is_empty() {
        return Err(format!("empty; {EXPECTED}"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(format!("`{url}` contains white space; {EXPECTED}"));
    }
    let host_and_path = |rest: &str| {
        rest.split_once('/').is_some_and(|(host, path)| {
            !host.is_empty() && !host.ends_with('@') && !path.is_empty()
        })
    };
    if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("ssh://"))
    {
        return if host_and_path(rest) {
            Ok(())
        } else {
            Err(format!(
                "`{url}` names no host and repository path; {EXPECTED}"
            ))
        };
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(format!(
            "`{scheme}://` is not a scheme Argo CD should clone over (plain HTTP carries credentials in the clear); {EXPECTED}"
        ));
    }
    let scp_like = url.split_once('@').and_then(|(user, rest)| {
        let (host, path) = rest.split_once(':')?;
        (!user.is_empty() && !host.is_empty() && !path.is_empty() && !path.starts_with('/'))
            .then_some(())
    });
    scp_like.ok_or_else(|| format!("`{url}` has no scheme, so Argo CD cannot clone it; {EXPECTED}"))
}

#[cfg(test)]
mod tests {
    use super::check_repo_url;

    #[test]
    fn the_forms_argo_cd_clones_are_accepted_and_the_rest_explained() {
        for good in [
            "https://github.com/example-org/finops-platform.git",
            "https://git.example.org:8443/platform/finops",
            "ssh://git@github.com/example-org/finops-platform.git",
            "ssh://git@git.example.org:2222/platform/finops.git",
            "git@github.com:example-org/finops-platform.git",
        ] {
            assert_eq!(check_repo_url(good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("github.com/example-org/finops-platform", "has no scheme"),
            (
                "http://github.com/example-org/repo.git",
                "`http://` is not a scheme",
            ),
            ("https://github.com", "names no host and repository path"),
            ("ssh://git@/repo.git", "names no host and repository path"),
            ("git@github.com:/abs/path", "has no scheme"),
            ("/srv/git/repo.git", "has no scheme"),
            ("", "empty"),
        ] {
            let error = check_repo_url(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
            assert!(error.contains("expected https://"), "{bad}: {error}");
        }
    }
}
