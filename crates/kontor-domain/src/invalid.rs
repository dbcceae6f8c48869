/// Why a value was rejected. `key` names a translated message (see the `kontor-i18n` files);
/// `max` fills the `$max` argument of messages about lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{key}")]
pub struct Invalid {
    pub key: &'static str,
    pub max: Option<usize>,
}

impl Invalid {
    pub const fn new(key: &'static str) -> Self {
        Invalid { key, max: None }
    }
    pub const fn too_long(max: usize) -> Self {
        Invalid {
            key: "invalid-too-long",
            max: Some(max),
        }
    }
}
