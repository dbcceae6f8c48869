//! "You should meet": other confirmed participants of an event ranked by how well they fit a
//! participant's profile and opportunities, each with the reasons shown.

use kontor_domain::{Country, OpportunityKind, Sector};
use uuid::Uuid;

/// What the ranking looks at, for one person.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub id: Uuid,
    pub sectors: Vec<Sector>,
    pub country: Option<Country>,
    pub languages: Vec<String>,
    /// Their opportunities: kind, sectors, target countries, title in the reader's language.
    pub opportunities: Vec<(OpportunityKind, Vec<Sector>, Vec<Country>, String)>,
}

/// Why someone is recommended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    SharedSectors(Vec<Sector>),
    /// Their opportunity (title) answers mine (title).
    Answers {
        theirs: String,
        mine: String,
    },
    TargetCountry(Country),
    CommonLanguages(Vec<String>),
}

/// Scores `other` for `me`; `None` when nothing speaks for a meeting.
pub fn score(me: &Profile, other: &Profile) -> Option<(i32, Vec<Reason>)> {
    let mut points = 0;
    let mut reasons = vec![];
    let shared: Vec<Sector> = me
        .sectors
        .iter()
        .filter(|s| other.sectors.contains(s))
        .copied()
        .collect();
    if !shared.is_empty() {
        points += 2 * shared.len() as i32;
        reasons.push(Reason::SharedSectors(shared));
    }
    'answers: for (kind, sectors, _, mine) in &me.opportunities {
        for (their_kind, their_sectors, _, theirs) in &other.opportunities {
            if kind.answered_by() == Some(*their_kind)
                && sectors.iter().any(|s| their_sectors.contains(s))
            {
                points += 5;
                reasons.push(Reason::Answers {
                    theirs: theirs.clone(),
                    mine: mine.clone(),
                });
                break 'answers;
            }
        }
    }
    if let Some(c) = other.country
        && me
            .opportunities
            .iter()
            .any(|(_, _, targets, _)| targets.contains(&c))
    {
        points += 2;
        reasons.push(Reason::TargetCountry(c));
    }
    let common: Vec<String> = me
        .languages
        .iter()
        .filter(|l| other.languages.contains(l))
        .cloned()
        .collect();
    if common.is_empty() && !me.languages.is_empty() && !other.languages.is_empty() {
        points -= 2;
    } else if !common.is_empty() {
        points += 1;
        reasons.push(Reason::CommonLanguages(common));
    }
    let substantive = reasons
        .iter()
        .any(|r| !matches!(r, Reason::CommonLanguages(_)));
    (substantive && points > 0).then_some((points, reasons))
}

/// The best `n` of `others` for `me`, best first; ties by id for a stable order.
pub fn recommend<'a>(
    me: &Profile,
    others: &'a [Profile],
    n: usize,
) -> Vec<(&'a Profile, i32, Vec<Reason>)> {
    let mut ranked: Vec<_> = others
        .iter()
        .filter(|o| o.id != me.id)
        .filter_map(|o| score(me, o).map(|(p, r)| (o, p, r)))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    ranked.truncate(n);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u128, sectors: &[Sector], country: Country, langs: &[&str]) -> Profile {
        Profile {
            id: Uuid::from_u128(n),
            sectors: sectors.to_vec(),
            country: Some(country),
            languages: langs.iter().map(|l| l.to_string()).collect(),
            opportunities: vec![],
        }
    }

    #[test]
    fn an_offer_that_answers_a_request_ranks_first_with_its_reasons() {
        let mut me = person(1, &[Sector::Hydrogen], Country::GERMANY, &["de", "en"]);
        me.opportunities.push((
            OpportunityKind::TechnologyRequest,
            vec![Sector::Hydrogen],
            vec![Country::CHINA],
            "Suche Elektrolyseure".into(),
        ));
        let mut supplier = person(2, &[Sector::Hydrogen], Country::CHINA, &["zh", "en"]);
        supplier.opportunities.push((
            OpportunityKind::TechnologyOffer,
            vec![Sector::Hydrogen],
            vec![],
            "Electrolysers".into(),
        ));
        let peer = person(3, &[Sector::Hydrogen], Country::GERMANY, &["de"]);
        let stranger = person(4, &[Sector::Tourism], Country::CHINA, &["zh"]);
        let others = [peer.clone(), supplier.clone(), stranger];
        let ranked = recommend(&me, &others, 5);
        assert_eq!(
            ranked.len(),
            2,
            "the stranger shares nothing but the target country? {ranked:?}"
        );
        assert_eq!(ranked[0].0.id, supplier.id);
        assert!(ranked[0].2.contains(&Reason::Answers {
            theirs: "Electrolysers".into(),
            mine: "Suche Elektrolyseure".into()
        }));
        assert!(ranked[0].2.contains(&Reason::TargetCountry(Country::CHINA)));
        assert!(
            ranked[0]
                .2
                .contains(&Reason::CommonLanguages(vec!["en".into()]))
        );
        assert_eq!(ranked[1].0.id, peer.id);
    }

    #[test]
    fn nobody_recommends_themselves_or_a_mere_common_language() {
        let me = person(1, &[], Country::GERMANY, &["en"]);
        let other = person(2, &[], Country::CHINA, &["en"]);
        assert!(recommend(&me, &[me.clone(), other], 5).is_empty());
    }
}
