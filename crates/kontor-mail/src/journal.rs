//! The send journal: one entry per newsletter message whose final dot is about to be written
//! (`+`), and one when the server then refused it (`-`). See `bulk`'s module comment for the
//! guarantee it gives.
//!
//! The file is memory-mapped (`MAP_SHARED`) and written in fixed slots of [`SLOT`] bytes: an
//! entry is a store to memory, not a system call (a `write` cost about 2.5 µs here, 6 % of the
//! sender's CPU time per message). The pages belong to the kernel's page cache, so an entry
//! survives a killed process exactly like a `write` to the file would. Each slot's sign byte
//! is stored last: a slot that a crash tore has no sign and counts for nothing, like the
//! message whose dot was then never written. Emptying truncates the file to nothing; the next
//! entry maps it again. One journal per instance.

use std::path::PathBuf;
use std::sync::Mutex;

use kontor_store::Uuid;
use kontor_store::newsletter::Delivery;

/// Bytes per entry: sign, issue, subscriber, claim, then zeros.
const SLOT: usize = 64;
/// The first slot of a journal file, so that a journal written by an older version (text
/// lines) is still read after an upgrade.
const MAGIC: &[u8] = b"kontor send journal 2\n";
/// Entries the file is first mapped for; it doubles when full.
const FIRST_CAPACITY: usize = 16 * 1024;

pub struct Journal {
    path: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    file: std::fs::File,
    map: Option<memmap2::MmapMut>,
    /// The next free slot (slot 0 holds [`MAGIC`]).
    next: usize,
}

impl Journal {
    /// Opens (or creates) the journal; what a previous run left in it stays until
    /// [`Journal::clear`].
    pub fn open(path: impl Into<PathBuf>) -> std::io::Result<Journal> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut bytes = std::fs::read(&path).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(Vec::new()),
            _ => Err(e),
        })?;
        if !bytes.is_empty() && !bytes.starts_with(MAGIC) {
            // Written by an older version: rewritten in slots, entries kept.
            bytes = slots(text_lines(&String::from_utf8_lossy(&bytes)));
            let tmp = path.with_extension("converting");
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &path)?;
        }
        // New entries go after the last one a previous run wrote.
        let next = bytes
            .chunks(SLOT)
            .rposition(|slot| slot.iter().any(|b| *b != 0))
            .map_or(1, |last| last + 1);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        Ok(Journal {
            path,
            inner: Mutex::new(Inner {
                file,
                map: None,
                next,
            }),
        })
    }

    pub(crate) fn append(&self, sign: char, d: &Delivery) -> std::io::Result<()> {
        let mut inner = self.inner.lock().expect("not poisoned");
        let slot = inner.next;
        let map = inner.mapped_for(slot)?;
        write_slot(
            &mut map[slot * SLOT..(slot + 1) * SLOT],
            sign as u8,
            (d.issue_id, d.subscriber_id, d.claim_id),
        );
        inner.next += 1;
        Ok(())
    }

    /// (issue, subscriber, claim) of messages recorded as sent and not withdrawn.
    pub fn pending(&self) -> std::io::Result<Vec<(Uuid, Uuid, Uuid)>> {
        let bytes = std::fs::read(&self.path)?;
        let mut out: Vec<(Uuid, Uuid, Uuid)> = Vec::new();
        for slot in bytes.chunks_exact(SLOT).skip(1) {
            if slot[0] == 0 {
                continue; // torn, or never written
            }
            let id = |at: usize| Uuid::from_slice(&slot[at..at + 16]).expect("16 bytes");
            let entry = (id(1), id(17), id(33));
            match slot[0] {
                b'+' => out.push(entry),
                _ => out.retain(|e| *e != entry),
            }
        }
        Ok(out)
    }

    pub fn clear(&self) -> std::io::Result<()> {
        self.clear_if(|| true).map(|_| ())
    }

    /// Empties the journal if `idle` says so while nothing can be appended; returns whether it
    /// did.
    pub(crate) fn clear_if(&self, idle: impl FnOnce() -> bool) -> std::io::Result<bool> {
        let mut inner = self.inner.lock().expect("not poisoned");
        if !idle() {
            return Ok(false);
        }
        // Unmapped before the file shrinks under it.
        inner.map = None;
        inner.file.set_len(0)?;
        inner.next = 1;
        Ok(true)
    }
}

impl Inner {
    /// The mapping, covering at least `slot`.
    fn mapped_for(&mut self, slot: usize) -> std::io::Result<&mut memmap2::MmapMut> {
        let covered = self.map.as_ref().map_or(0, |m| m.len() / SLOT);
        if slot >= covered {
            let capacity = (covered * 2).max(FIRST_CAPACITY).max(slot + 1);
            self.map = None;
            self.file.set_len((capacity * SLOT) as u64)?;
            let mut map = map_shared(&self.file)?;
            if !map.starts_with(MAGIC) {
                map[..MAGIC.len()].copy_from_slice(MAGIC);
            }
            self.map = Some(map);
        }
        Ok(self.map.as_mut().expect("mapped above"))
    }
}

/// Writes one entry, its sign last: a slot without one was torn and does not count.
fn write_slot(slot: &mut [u8], sign: u8, (issue, subscriber, claim): (Uuid, Uuid, Uuid)) {
    slot[1..17].copy_from_slice(issue.as_bytes());
    slot[17..33].copy_from_slice(subscriber.as_bytes());
    slot[33..49].copy_from_slice(claim.as_bytes());
    std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
    slot[0] = sign;
}

/// A journal file's bytes holding `entries`.
fn slots(entries: impl Iterator<Item = (u8, (Uuid, Uuid, Uuid))>) -> Vec<u8> {
    let mut bytes = vec![0; SLOT];
    bytes[..MAGIC.len()].copy_from_slice(MAGIC);
    for (sign, entry) in entries {
        let at = bytes.len();
        bytes.resize(at + SLOT, 0);
        write_slot(&mut bytes[at..], sign, entry);
    }
    bytes
}

/// Maps the journal file for reading and writing, shared with the page cache.
#[allow(unsafe_code)]
fn map_shared(file: &std::fs::File) -> std::io::Result<memmap2::MmapMut> {
    // SAFETY: the mapping is undefined behaviour only if the file changes underneath it
    // through another handle. The journal file is private to this instance (one per instance,
    // see the README), and this module is the only writer: it unmaps before every change of
    // the file's length, and `pending` only reads.
    unsafe { memmap2::MmapMut::map_mut(file) }
}

/// The entries of a journal written by a version before the memory-mapped one: lines
/// `+ issue subscriber claim`; a torn last line counts for nothing.
fn text_lines(text: &str) -> impl Iterator<Item = (u8, (Uuid, Uuid, Uuid))> + '_ {
    text.lines().filter_map(|line| {
        let mut parts = line.split(' ');
        let (sign, i, s, c) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let entry = (i.parse().ok()?, s.parse().ok()?, c.parse().ok()?);
        Some((if sign == "+" { b'+' } else { b'-' }, entry))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(n: u128) -> Delivery {
        Delivery {
            issue_id: Uuid::from_u128(1),
            seq: n as i64,
            subscriber_id: Uuid::from_u128(n),
            claim_id: Uuid::from_u128(99),
            attempts: 0,
            email: String::new(),
            locale: "de".into(),
            unsubscribe_token: String::new(),
            subscriber_status: "confirmed".into(),
        }
    }

    fn temp_path() -> PathBuf {
        std::env::temp_dir().join(format!("journal-{}", Uuid::now_v7().simple()))
    }

    #[test]
    fn the_journal_keeps_sent_messages_until_cleared() {
        let path = temp_path();
        let j = Journal::open(&path).unwrap();
        j.append('+', &delivery(2)).unwrap();
        j.append('+', &delivery(3)).unwrap();
        j.append('-', &delivery(2)).unwrap();
        let sent = (Uuid::from_u128(1), Uuid::from_u128(3), Uuid::from_u128(99));
        assert_eq!(j.pending().unwrap(), vec![sent]);
        // What a killed process left is read by the next one, which appends after it.
        drop(j);
        let j = Journal::open(&path).unwrap();
        j.append('+', &delivery(4)).unwrap();
        let four = (Uuid::from_u128(1), Uuid::from_u128(4), Uuid::from_u128(99));
        assert_eq!(j.pending().unwrap(), vec![sent, four]);
        let len = || std::fs::metadata(&path).unwrap().len() as usize;
        assert_eq!(
            len(),
            FIRST_CAPACITY * SLOT,
            "the next run fills the same slots"
        );
        j.clear().unwrap();
        assert!(j.pending().unwrap().is_empty());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        // Past the first mapping's capacity the file grows and keeps every entry.
        for n in 0..FIRST_CAPACITY as u128 + 10 {
            j.append('+', &delivery(n)).unwrap();
        }
        assert_eq!(j.pending().unwrap().len(), FIRST_CAPACITY + 10);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_torn_slot_and_an_older_text_journal_are_read_as_before() {
        let path = temp_path();
        let j = Journal::open(&path).unwrap();
        j.append('+', &delivery(5)).unwrap();
        drop(j);
        // A slot whose sign never got written: ids without a sign.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[2 * SLOT + 1] = 7;
        std::fs::write(&path, &bytes).unwrap();
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.pending().unwrap().len(), 1);

        let old = temp_path();
        let line = |sign: char, n: u128| {
            format!(
                "{sign} {} {} {}\n",
                Uuid::from_u128(1).simple(),
                Uuid::from_u128(n).simple(),
                Uuid::from_u128(99).simple()
            )
        };
        let text = line('+', 2) + &line('+', 3) + &line('-', 2) + "+ 0000";
        std::fs::write(&old, text).unwrap();
        let j = Journal::open(&old).unwrap();
        let three = (Uuid::from_u128(1), Uuid::from_u128(3), Uuid::from_u128(99));
        assert_eq!(j.pending().unwrap(), vec![three]);
        // Converted on opening: new entries join the old ones.
        j.append('+', &delivery(4)).unwrap();
        let four = (Uuid::from_u128(1), Uuid::from_u128(4), Uuid::from_u128(99));
        assert_eq!(j.pending().unwrap(), vec![three, four]);
        for p in [path, old] {
            let _ = std::fs::remove_file(p);
        }
    }
}
