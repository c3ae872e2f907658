//! `.netrc` credentials (`$NETRC`, else `~/.netrc`), as pip and uv use them: a login for a
//! host is sent to that host only.

/// `host → (login, password)`. A missing or unreadable file gives nothing: `.netrc` is optional,
/// and a broken one must not stop a lock that needs no credentials.
pub fn from_default_location() -> Vec<(String, (String, Option<String>))> {
    let Ok(parsed) = netrc::Netrc::new() else {
        return Vec::new();
    };
    parsed
        .hosts
        .into_iter()
        .map(|(host, auth)| {
            let password = (!auth.password.is_empty()).then_some(auth.password);
            (host, (auth.login, password))
        })
        .collect()
}
