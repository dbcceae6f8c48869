//! The `.dzn` reader on all 140 files of the JAIR 2022 benchmark.

use kontor_schedule::{Instance, dzn};

fn header(text: &str, name: &str) -> usize {
    let start = text.find(&format!("{name} =")).expect("field present");
    let rest = &text[start + name.len() + 2..];
    rest[..rest.find(';').expect("terminated")]
        .trim()
        .parse()
        .expect("integer")
}

#[test]
fn reads_all_140_files() {
    let dir = crate::jair_dir();
    let mut n = 0;
    let (mut fixed, mut prec, mut forbidden) = (0, 0, 0);
    for entry in std::fs::read_dir(&dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "dzn") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable file");
        let inst = Instance::load(&path.to_string_lossy(), &text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            inst.participants.len(),
            header(&text, "nBusiness"),
            "{}",
            path.display()
        );
        assert_eq!(inst.requests.len(), header(&text, "nMeetings"));
        assert_eq!(inst.slots.len(), header(&text, "nTotalSlots"));
        assert_eq!(inst.tables as usize, header(&text, "nTables"));
        assert_eq!(inst.fairness, Some(2));
        assert!(
            inst.requests
                .iter()
                .all(|r| r.mandatory && r.participants.len() == 2)
        );
        fixed += inst
            .requests
            .iter()
            .filter(|r| r.fixed_slot.is_some())
            .count();
        prec += inst.requests.iter().map(|r| r.after.len()).sum::<usize>();
        forbidden += inst
            .participants
            .iter()
            .map(|p| p.unavailable.len())
            .sum::<usize>();
        n += 1;
    }
    assert_eq!(n, 140, "expected the 140 .dzn files in {}", dir.display());
    assert!(fixed > 0 && prec > 0 && forbidden > 0);
}

#[test]
fn maps_sessions_fixed_and_precedences() {
    let text = "nBusiness = 3; nMeetings = 3; nTables = 1; nTotalSlots = 4; nMorningSlots = 2;
      requested = [| 1, 2, 1, | 2, 3, 2, | 1, 3, 3 |];
      meetingsxBusiness = [{1,2,4},{1,2,3},{1,3,4}];
      nMeetingsBusiness = [2, 2, 2];
      forbidden = [{0}, {0, 4}, {0}];
      fixed = [0, 3, 0];
      precedences = [{}, {}, {1, 2}];";
    let inst = dzn::parse(text).expect("valid");
    assert_eq!(inst.requests[0].sessions, vec!["morning".to_string()]);
    assert_eq!(inst.requests[1].sessions, vec!["afternoon".to_string()]);
    assert!(inst.requests[2].sessions.is_empty());
    assert_eq!(inst.requests[1].fixed_slot.as_deref(), Some("s3"));
    assert_eq!(
        inst.requests[2].after,
        vec!["m1".to_string(), "m2".to_string()]
    );
    assert_eq!(inst.participants[1].unavailable, vec!["s4".to_string()]);
    assert_eq!(inst.slots[1].session.as_deref(), Some("morning"));
    assert_eq!(inst.slots[2].session.as_deref(), Some("afternoon"));
}
