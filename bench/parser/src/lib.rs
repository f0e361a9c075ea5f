//! The benchmark corpus: realistic SIP datagrams (`bench/corpus/*.sip`), shared by the
//! criterion benchmark and the callgrind harness so that both measure the same bytes as the
//! kernel benchmarks.

/// A named UDP payload.
pub struct Message {
    /// File name in `bench/corpus/` without `.sip`.
    pub name: &'static str,
    /// What the message stands for.
    pub what: &'static str,
    /// The datagram's payload.
    pub bytes: &'static [u8],
}

macro_rules! corpus {
    ($($name:literal: $what:literal),* $(,)?) => {
        /// Every message of the corpus.
        pub const CORPUS: &[Message] = &[$(Message {
            name: $name,
            what: $what,
            bytes: include_bytes!(concat!("../../corpus/", $name, ".sip")),
        }),*];
    };
}

corpus! {
    "options": "small OPTIONS keep-alive",
    "invite_sdp": "typical INVITE with SDP",
    "ack": "in-dialog ACK",
    "bye": "in-dialog BYE",
    "compact": "MESSAGE with compact headers (i:)",
    "long_callid_early": "carrier INVITE, 22 headers, Call-ID first",
    "long_callid_late": "carrier INVITE, 22 headers, Call-ID last",
    "no_callid": "INVITE without Call-ID (fallback: whole header section scanned)",
}

impl Message {
    /// How far `call_id` reads: to the end of the Call-ID it finds, else to the end of the
    /// header section (the parser stops at the first empty line). Instructions per byte are
    /// counted on this, since the parser never looks at what follows.
    pub fn scanned(&self) -> usize {
        match ipvs_pe_sip::call_id(self.bytes) {
            Ok(id) => id.as_ptr() as usize - self.bytes.as_ptr() as usize + id.len(),
            Err(_) => self
                .bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(self.bytes.len(), |p| p + 4),
        }
    }
}

/// The message called `name`.
pub fn message(name: &str) -> Option<&'static Message> {
    CORPUS.iter().find(|m| m.name == name)
}
