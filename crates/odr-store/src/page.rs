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
        let raw = format!("{}:{}", self.at.and_utc().timestamp_micros(), self.id);
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(s: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::Corrupt("cursor".into());
        if !s.len().is_multiple_of(2) || s.len() > 400 {
            return Err(bad());
        }
        let bytes: Result<Vec<u8>, _> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
            .collect();
        let raw = String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())?;
        let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let at = chrono::DateTime::from_timestamp_micros(micros)
            .ok_or_else(bad)?
            .naive_utc();
        Ok(Cursor {
            at,
            id: id.to_owned(),
        })
    }
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
}
