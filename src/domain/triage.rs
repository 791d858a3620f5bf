//! The queue's vocabulary: statuses, labels, assignees, staff roles.

/// A submission's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, serde::Deserialize)]
// Read back from the intake inbox by the names `named!` writes.
#[serde(rename_all = "snake_case")]
#[schema(rename_all = "snake_case")]
pub enum Status {
    New,
    Triaged,
    InProgress,
    Done,
    WontFix,
    Duplicate,
    Spam,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Self::New,
        Self::Triaged,
        Self::InProgress,
        Self::Done,
        Self::WontFix,
        Self::Duplicate,
        Self::Spam,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Triaged => "triaged",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::WontFix => "wont_fix",
            Self::Duplicate => "duplicate",
            Self::Spam => "spam",
        }
    }
}

/// What a staff member may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Role {
    /// Works the queue.
    Triager,
    /// The queue, and the privacy requests of the people who sent feedback.
    Webmaster,
    /// Everything, staff accounts and API tokens included.
    Admin,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "triager" => Some(Self::Triager),
            "webmaster" => Some(Self::Webmaster),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triager => "triager",
            Self::Webmaster => "webmaster",
            Self::Admin => "admin",
        }
    }

    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }
}

/// The enumerations show, serialise and store as their stable names (`in_progress`, `admin`).
macro_rules! named {
    ($($ty:ty),* $(,)?) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}
pub(crate) use named;

named!(Status, Role);

/// A label: 1–40 characters, lower-cased, no commas or control characters.
pub fn parse_label(raw: &str) -> Option<String> {
    let label = raw.trim().to_lowercase();
    let ok = (1..=40).contains(&label.chars().count())
        && !label.chars().any(|c| c.is_control() || c == ',');
    ok.then_some(label)
}

/// A staff name (user or assignee): 1–64 of letters, digits, `.`, `_`, `-`, `@`.
pub fn parse_staff_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        assert!(Role::Admin.includes(Role::Webmaster));
        assert!(Role::Webmaster.includes(Role::Triager));
        assert!(!Role::Triager.includes(Role::Webmaster));
    }

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("closed"), None);
    }

    #[test]
    fn labels_and_names() {
        assert_eq!(parse_label(" UI "), Some("ui".into()));
        assert_eq!(parse_label("a,b"), None);
        assert_eq!(parse_label(""), None);
        assert_eq!(parse_staff_name("ann.example"), Some("ann.example".into()));
        assert_eq!(parse_staff_name("ann example"), None);
    }
}
