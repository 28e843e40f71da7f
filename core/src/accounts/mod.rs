//! Organisations, staff accounts and partner keys.

pub mod api_keys;
pub mod model;
pub mod organisations;
pub mod users;

#[cfg(test)]
mod tests {
    /// Auth depends on accounts (a session is an account's), never the other way: what an
    /// account change ends in auth is passed in by auth.
    #[test]
    fn accounts_do_not_depend_on_auth() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/accounts");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).expect("the accounts folder") {
            let path = entry.expect("an entry").path();
            let text = std::fs::read_to_string(&path).expect("a source file");
            // Spelled apart, so this test does not find itself.
            let needle = ["crate", "auth"].join("::");
            let uses = text.lines().any(|l| l.contains(&needle));
            assert!(!uses, "{} uses auth", path.display());
            read += 1;
        }
        assert!(read >= 4, "only {read} files read");
    }
}
