//! The newsletter's vocabulary: topics a subscriber may choose, a subscription's status, how a
//! person unsubscribed, and how much of an IP address the proof of consent keeps.

use std::net::IpAddr;

use crate::{Invalid, keyed_enum};

keyed_enum! {
    /// Topics of the newsletter; an issue with a topic goes only to the subscribers who chose it
    /// or chose none. Each key has a
    /// translation `topic-<key>`.
    Topic {
        International => "international",
        China => "china",
        Hydrogen => "hydrogen",
        LifeSciences => "life-sciences",
        Events => "events",
        Jobs => "jobs",
    }
}

keyed_enum! {
    /// Where a subscription stands. Only `confirmed` subscribers receive issues.
    SubscriberStatus { Pending => "pending", Confirmed => "confirmed", Unsubscribed => "unsubscribed" }
}

keyed_enum! {
    /// How a person left the list, recorded in the proof of consent.
    UnsubscribeChannel { Link => "link", OneClick => "one-click", Admin => "admin", Import => "import" }
}

keyed_enum! {
    /// How much of the client's IP address the proof of consent stores (a decision for the
    /// data-protection officer): all of it, the network part (/24 for IPv4, /48 for IPv6), or none.
    ConsentIp { Full => "full", Truncated => "truncated", None => "none" }
}

impl ConsentIp {
    /// The address as it is to be stored; `None` when nothing is kept or it is not an address.
    pub fn apply(self, ip: &str) -> Option<String> {
        // A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`: truncated as IPv6
        // (/48) that would keep the whole IPv4 address.
        let addr: IpAddr = ip.trim().parse::<IpAddr>().ok()?.to_canonical();
        match self {
            ConsentIp::None => None,
            ConsentIp::Full => Some(addr.to_string()),
            ConsentIp::Truncated => Some(match addr {
                IpAddr::V4(v4) => {
                    let [a, b, c, _] = v4.octets();
                    format!("{a}.{b}.{c}.0/24")
                }
                IpAddr::V6(v6) => {
                    let s = v6.segments();
                    let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                    format!("{net}/48")
                }
            }),
        }
    }
}

impl Topic {
    /// Topics from form values or a list written as `a b`, `a;b` or `a,b`; unknown keys are refused.
    pub fn parse_list<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Topic>, Invalid> {
        let mut out = Vec::new();
        for value in values {
            for key in value.split([' ', ';', ',', '|']).filter(|k| !k.is_empty()) {
                let topic = <Topic as crate::Keyed>::from_key(key.trim())
                    .ok_or(Invalid::new("invalid-topic"))?;
                if !out.contains(&topic) {
                    out.push(topic);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keyed;

    #[test]
    fn addresses_are_truncated_to_their_network() {
        assert_eq!(
            ConsentIp::Truncated.apply("203.0.113.77").unwrap(),
            "203.0.113.0/24"
        );
        assert_eq!(
            ConsentIp::Truncated.apply("2001:db8:abcd:12:1::5").unwrap(),
            "2001:db8:abcd::/48"
        );
        assert_eq!(
            ConsentIp::Full.apply("203.0.113.77").unwrap(),
            "203.0.113.77"
        );
        assert_eq!(
            ConsentIp::Truncated.apply("::ffff:203.0.113.77").unwrap(),
            "203.0.113.0/24"
        );
        assert_eq!(
            ConsentIp::Full.apply("::ffff:203.0.113.77").unwrap(),
            "203.0.113.77"
        );
        assert_eq!(ConsentIp::None.apply("203.0.113.77"), None);
        assert_eq!(ConsentIp::Full.apply("unknown"), None);
    }

    #[test]
    fn topic_lists_parse_and_refuse_unknown_keys() {
        assert_eq!(
            Topic::parse_list(["jobs;china", "china"]).unwrap(),
            vec![Topic::China, Topic::Jobs]
        );
        assert_eq!(Topic::parse_list([""]).unwrap(), vec![]);
        assert_eq!(
            Topic::parse_list(["life-sciences"]).unwrap()[0].key(),
            "life-sciences"
        );
        assert!(Topic::parse_list(["sports"]).is_err());
    }
}
