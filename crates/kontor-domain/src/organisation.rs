use crate::{Invalid, keyed_enum};

keyed_enum! {
    /// What kind of body an organisation is.
    OrgKind {
        Company => "company",
        Startup => "startup",
        ResearchInstitute => "research",
        University => "university",
        PublicBody => "public-body",
        Association => "association",
        Chamber => "chamber",
        Other => "other",
    }
}

keyed_enum! {
    /// The fixed sector taxonomy; every key has a translation `sector-<key>` in each language.
    Sector {
        Hydrogen => "hydrogen",
        LifeSciences => "life-sciences",
        EnvironmentalTechnology => "environmental-technology",
        Energy => "energy",
        Logistics => "logistics",
        Automotive => "automotive",
        Digital => "digital",
        ArtificialIntelligence => "ai",
        Manufacturing => "manufacturing",
        Chemicals => "chemicals",
        MedicalTechnology => "medical-technology",
        Finance => "finance",
        Education => "education",
        Tourism => "tourism",
        Food => "food",
        Construction => "construction",
        CreativeIndustries => "creative-industries",
        Consulting => "consulting",
    }
}

keyed_enum! {
    /// Head count bands (EU SME definition).
    OrgSize { Micro => "micro", Small => "small", Medium => "medium", Large => "large" }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

/// Every officially assigned ISO 3166-1 alpha-2 code.
const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

impl Country {
    pub fn parse(raw: &str) -> Result<Country, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 2 && CODES.split(' ').any(|c| c == code) {
            let b = code.as_bytes();
            Ok(Country([b[0], b[1]]))
        } else {
            Err(Invalid::new("invalid-country"))
        }
    }
    /// Every assigned code, in alphabetical order.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        CODES.split(' ')
    }
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }
    /// The country's flag as regional-indicator symbols.
    pub fn flag(&self) -> String {
        self.0
            .iter()
            .map(|b| char::from_u32(0x1F1E6 + u32::from(b - b'A')).unwrap_or('?'))
            .collect()
    }
    pub const GERMANY: Country = Country(*b"DE");
    pub const CHINA: Country = Country(*b"CN");
}
impl TryFrom<String> for Country {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Country::parse(&s)
    }
}
impl From<Country> for String {
    fn from(c: Country) -> String {
        c.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keyed;

    #[test]
    fn countries() {
        assert_eq!(Country::parse("cn").unwrap(), Country::CHINA);
        assert!(Country::parse("XX").is_err());
        assert!(Country::parse("DEU").is_err());
        assert_eq!(Country::GERMANY.flag(), "🇩🇪");
    }

    #[test]
    fn keys_round_trip() {
        for s in Sector::ALL {
            assert_eq!(Sector::from_key(s.key()), Some(*s));
        }
        assert_eq!(
            OrgKind::from_key("research"),
            Some(OrgKind::ResearchInstitute)
        );
    }
}
