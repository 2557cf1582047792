//! Kafka's topic name rule, for clients to check before anything is sent
//! (the CLI's flags, connector files).

/// `[a-zA-Z0-9._-]{1,249}`, and not `.` or `..`.
pub fn check_topic_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 249 {
        return Err("topic names are 1 to 249 characters".into());
    }
    if s == "." || s == ".." {
        return Err("topic name cannot be \".\" or \"..\"".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "illegal character {c:?}: topic names use only a-z A-Z 0-9 . _ -"
        ));
    }
    Ok(())
}
