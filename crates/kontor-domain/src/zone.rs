use crate::Invalid;

/// An IANA time-zone name known to the bundled time-zone database, such as `Asia/Shanghai`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        let name = name.trim();
        // jiff accepts `UTC+8`-like POSIX strings elsewhere; here only database names count.
        if name.is_empty() || name.len() > 64 || jiff::tz::TimeZone::get(name).is_err() {
            return Err(Invalid::new("invalid-time-zone"));
        }
        Ok(TimeZoneName(name.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).expect("validated at parse")
    }
    /// The city part of the name, for labels such as "09:00 Berlin".
    pub fn city(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
    pub fn berlin() -> Self {
        TimeZoneName("Europe/Berlin".into())
    }
    /// Today's date in this zone, by the system clock.
    pub fn today(&self) -> jiff::civil::Date {
        jiff::Timestamp::now().to_zoned_datetime(self.tz()).date()
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        TimeZoneName::parse(&s)
    }
}
impl From<TimeZoneName> for String {
    fn from(z: TimeZoneName) -> String {
        z.0
    }
}
impl std::fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_corridor_and_rejects_inventions() {
        assert!(TimeZoneName::parse("Asia/Shanghai").is_ok());
        assert!(TimeZoneName::parse(" Europe/Berlin ").is_ok());
        assert_eq!(
            TimeZoneName::parse("Mars/Olympus").unwrap_err().key,
            "invalid-time-zone"
        );
        assert!(TimeZoneName::parse("").is_err());
    }
}
