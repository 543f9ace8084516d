//! Keyset pagination: a cursor names the last row a client saw by its sort
//! key, so pages stay stable while new rows arrive.

use chrono::NaiveDateTime;

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    /// Opaque to clients: hex of `micros:id`.
    pub fn encode(&self) -> String {
        hex(&format!("{}:{}", micros(self.at), self.id))
    }

    pub fn decode(s: &str) -> Result<Cursor, StoreError> {
        let raw = unhex(s)?;
        let (micros, id) = raw.split_once(':').ok_or_else(bad_cursor)?;
        Ok(Cursor {
            at: instant(micros)?,
            id: id.to_owned(),
        })
    }
}

/// The cursor of `sort=next_deadline`: the soonest running deadline (none
/// for complaints without one, which come last) and the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCursor {
    pub due: Option<NaiveDateTime>,
    pub id: String,
}

impl DueCursor {
    pub fn encode(&self) -> String {
        let due = self
            .due
            .map_or_else(|| "-".to_owned(), |d| micros(d).to_string());
        hex(&format!("d:{due}:{}", self.id))
    }

    pub fn decode(s: &str) -> Result<DueCursor, StoreError> {
        let raw = unhex(s)?;
        let rest = raw.strip_prefix("d:").ok_or_else(bad_cursor)?;
        let (due, id) = rest.split_once(':').ok_or_else(bad_cursor)?;
        let due = match due {
            "-" => None,
            micros => Some(instant(micros)?),
        };
        Ok(DueCursor {
            due,
            id: id.to_owned(),
        })
    }
}

/// The cursor of a complaint's event log or message thread: the last `seq`
/// seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqCursor(pub i64);

impl SeqCursor {
    pub fn encode(&self) -> String {
        hex(&format!("s:{}", self.0))
    }

    pub fn decode(s: &str) -> Result<SeqCursor, StoreError> {
        let raw = unhex(s)?;
        let seq = raw.strip_prefix("s:").ok_or_else(bad_cursor)?;
        seq.parse().map(SeqCursor).map_err(|_| bad_cursor())
    }
}

fn bad_cursor() -> StoreError {
    StoreError::Corrupt("cursor".into())
}

fn micros(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

fn instant(micros: &str) -> Result<NaiveDateTime, StoreError> {
    let micros: i64 = micros.parse().map_err(|_| bad_cursor())?;
    Ok(chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(bad_cursor)?
        .naive_utc())
}

fn hex(raw: &str) -> String {
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<String, StoreError> {
    if !s.len().is_multiple_of(2) || s.len() > 400 {
        return Err(bad_cursor());
    }
    let bytes: Result<Vec<u8>, _> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect();
    String::from_utf8(bytes.map_err(|_| bad_cursor())?).map_err(|_| bad_cursor())
}

/// One page of a list and the cursor of the next, if there is more.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Clients may ask for up to 200 rows; more is clamped, not refused.
pub fn clamp_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            at: chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456)
                .expect("t")
                .naive_utc(),
            id: "abc-1".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).expect("decodes"), c);
        assert!(Cursor::decode("zz").is_err());
        assert!(Cursor::decode("abc").is_err());
    }

    #[test]
    fn due_and_seq_cursors_round_trip_and_are_not_mistaken_for_others() {
        let due = DueCursor {
            due: Some(
                chrono::DateTime::from_timestamp_micros(1_790_000_000_000_001)
                    .expect("t")
                    .naive_utc(),
            ),
            id: "c-1".into(),
        };
        assert_eq!(DueCursor::decode(&due.encode()).expect("decodes"), due);
        let none = DueCursor {
            due: None,
            id: "c-2".into(),
        };
        assert_eq!(DueCursor::decode(&none.encode()).expect("decodes"), none);
        assert_eq!(
            SeqCursor::decode(&SeqCursor(7).encode()).expect("decodes"),
            SeqCursor(7)
        );
        assert!(SeqCursor::decode(&due.encode()).is_err());
        assert!(Cursor::decode(&SeqCursor(7).encode()).is_err());
        assert!(DueCursor::decode(&SeqCursor(7).encode()).is_err());
    }
}
