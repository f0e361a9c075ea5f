//! The datagrams of the differential corpus: realistic messages, one or more
//! datagrams per parsing rule and per quirk, and malformed ones.
//!
//! Every Call-ID that either engine can pick is unique across the corpus
//! (the kernel test finds each datagram's connection template by it), so
//! every case takes fresh ids from [`Corpus::id`]: `cid` and a four-digit
//! serial number. Mutated messages whose answer repeats an earlier one are
//! dropped.

use ipvs_pe_sip::c_model::{c_call_id, explain};
use ipvs_pe_sip::call_id;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// Largest datagram: the kernel test sends each in one unfragmented packet.
pub const MAX_DATAGRAM: usize = 1400;

/// One datagram of the corpus.
pub struct Case {
    /// What the datagram shows, `family/name`, plus the quirks explaining a
    /// difference between C and us, if any.
    pub label: String,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// The answer of one engine as the index gives it: the Call-ID in lowercase
/// hex, or `-` for a fallback to normal persistence.
pub fn answer(r: Result<&[u8], ipvs_pe_sip::CallIdError>) -> String {
    match r {
        Ok(id) => id.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => "-".to_owned(),
    }
}

/// Writes the corpus into `dir`: `NNNN.sip` files and `index.tsv`. Returns
/// the number of datagrams.
pub fn write(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let corpus = corpus();
    let mut index = std::io::BufWriter::new(std::fs::File::create(dir.join("index.tsv"))?);
    for (n, case) in corpus.iter().enumerate() {
        let name = format!("{:04}", n + 1);
        std::fs::write(dir.join(format!("{name}.sip")), &case.payload)?;
        writeln!(
            index,
            "{name}\t{}\t{}\t{}",
            answer(c_call_id(&case.payload)),
            answer(call_id(&case.payload)),
            case.label
        )?;
    }
    index.flush()?;
    Ok(corpus.len())
}

/// The corpus being built.
pub struct Corpus {
    cases: Vec<Case>,
    serial: u32,
    answers: HashSet<Vec<u8>>,
}

impl Corpus {
    fn new() -> Self {
        Self {
            cases: Vec::new(),
            serial: 0,
            answers: HashSet::new(),
        }
    }

    /// A fresh Call-ID, unique in the corpus.
    fn id(&mut self) -> String {
        self.serial += 1;
        assert!(self.serial < 10_000, "serial numbers are four digits");
        format!("cid{:04}", self.serial)
    }

    /// A fresh Call-ID of exactly `len` bytes (at least 8).
    fn id_of_len(&mut self, len: usize) -> String {
        let mut id = self.id();
        id.push('-');
        while id.len() < len {
            id.push(char::from(b'a' + (id.len() % 26) as u8));
        }
        id.truncate(len);
        id
    }

    /// The values the two engines give, lower-cased: the kernel test compares
    /// bytes, but lower-case uniqueness also keeps ids apart for a reader.
    fn answers(payload: &[u8]) -> Vec<Vec<u8>> {
        [c_call_id(payload), call_id(payload)]
            .into_iter()
            .flatten()
            .map(<[u8]>::to_ascii_lowercase)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    }

    /// Whether `payload` can join: small enough, and its answers are new.
    fn fits(&self, payload: &[u8]) -> bool {
        payload.len() <= MAX_DATAGRAM
            && !payload.is_empty()
            && Self::answers(payload)
                .iter()
                .all(|a| !self.answers.contains(a))
    }

    fn push(&mut self, name: &str, payload: Vec<u8>) {
        let quirks =
            explain(&payload).unwrap_or_else(|| panic!("{name}: difference with C not explained"));
        let label = if quirks.is_empty() {
            name.to_owned()
        } else {
            format!("{name} [differs: {quirks}]")
        };
        self.answers.extend(Self::answers(&payload));
        self.cases.push(Case { label, payload });
    }

    /// Adds a handmade datagram, which must fit.
    fn add(&mut self, name: &str, payload: impl Into<Vec<u8>>) {
        let payload = payload.into();
        assert!(
            payload.len() <= MAX_DATAGRAM,
            "{name}: {} bytes",
            payload.len()
        );
        assert!(self.fits(&payload), "{name}: answer already in the corpus");
        self.push(name, payload);
    }
}

/// Builds the whole corpus.
pub fn corpus() -> Vec<Case> {
    let mut c = Corpus::new();
    realistic(&mut c);
    rules(&mut c);
    charset(&mut c);
    lengths(&mut c);
    terminators(&mut c);
    quirks(&mut c);
    malformed(&mut c);
    mutated(&mut c);
    c.cases
}

// ---- Building messages -------------------------------------------------------

/// Joins `lines` with `eol`, adds the empty line and `body`. A line
/// `Content-Length: *` (or `l: *`) gets the body's length.
fn msg(eol: &str, lines: &[&str], body: &str) -> Vec<u8> {
    let mut m = String::new();
    for line in lines {
        let line = match *line {
            "Content-Length: *" => format!("Content-Length: {}", body.len()),
            "l: *" => format!("l: {}", body.len()),
            other => other.to_owned(),
        };
        m.push_str(&line);
        m.push_str(eol);
    }
    m.push_str(eol);
    m.push_str(body);
    m.into_bytes()
}

/// A request with the given header lines (line ends added) and no body.
fn req(headers: &[&str]) -> Vec<u8> {
    let mut lines = vec!["OPTIONS sip:carol@chicago.example.com SIP/2.0"];
    lines.extend_from_slice(headers);
    msg("\r\n", &lines, "")
}

/// A request whose headers are given raw, with their own line ends.
fn raw_req(headers: &str) -> Vec<u8> {
    let mut m = b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n".to_vec();
    m.extend_from_slice(headers.as_bytes());
    m.extend_from_slice(b"Max-Forwards: 70\r\nCSeq: 1 OPTIONS\r\n\r\n");
    m
}

fn sdp(session: &str) -> String {
    format!(
        "v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n\
         s=-\r\ni={session}\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\n\
         m=audio 49172 RTP/AVP 0 8 97\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:97 iLBC/8000\r\na=sendrecv\r\n"
    )
}

// ---- Realistic messages ---------------------------------------------------------

fn realistic(c: &mut Corpus) {
    let eols = [("crlf", "\r\n"), ("lf", "\n"), ("cr", "\r")];
    for (eol_name, eol) in eols {
        for form in ["Call-ID", "i", "CALL-ID", "call-id"] {
            let name = |kind: &str| format!("real/{kind}/{eol_name}/{form}");
            let id = format!("{}@pc33.atlanta.example.com", c.id());
            let cid = format!("{form}: {id}");
            c.add(
                &name("invite-sdp"),
                msg(
                    eol,
                    &[
                        "INVITE sip:bob@biloxi.example.com SIP/2.0",
                        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
                        "Max-Forwards: 70",
                        "To: Bob <sip:bob@biloxi.example.com>",
                        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                        &cid,
                        "CSeq: 314159 INVITE",
                        "Contact: <sip:alice@pc33.atlanta.example.com>",
                        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY",
                        "Supported: replaces, timer",
                        "Content-Type: application/sdp",
                        "Content-Length: *",
                    ],
                    &sdp("A call"),
                ),
            );
            let id = c.id();
            let cid = format!("{form}: {id}");
            c.add(
                &name("200-ok-sdp"),
                msg(
                    eol,
                    &[
                        "SIP/2.0 200 OK",
                        "Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3",
                        "Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2",
                        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
                        "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
                        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                        &cid,
                        "CSeq: 314159 INVITE",
                        "Contact: <sip:bob@192.0.2.4>",
                        "Content-Type: application/sdp",
                        "Content-Length: *",
                    ],
                    &sdp("Answer"),
                ),
            );
            let id = format!("{}@192.0.2.4", c.id());
            let cid = format!("{form}: {id}");
            c.add(
                &name("bye"),
                msg(
                    eol,
                    &[
                        "BYE sip:alice@pc33.atlanta.example.com SIP/2.0",
                        "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10",
                        "Max-Forwards: 70",
                        "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
                        "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                        &cid,
                        "CSeq: 231 BYE",
                        "Content-Length: 0",
                    ],
                    "",
                ),
            );
            let id = c.id();
            let cid = format!("{form}: {id}");
            c.add(
                &name("options"),
                msg(
                    eol,
                    &[
                        "OPTIONS sip:carol@chicago.example.com SIP/2.0",
                        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877",
                        "Max-Forwards: 70",
                        "To: <sip:carol@chicago.example.com>",
                        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                        &cid,
                        "CSeq: 63104 OPTIONS",
                        "Contact: <sip:alice@pc33.atlanta.example.com>",
                        "Accept: application/sdp",
                        "Content-Length: 0",
                    ],
                    "",
                ),
            );
        }
    }

    // One of each other method and response, CRLF, full name.
    let others: &[(&str, &[&str], &str)] = &[
        (
            "register",
            &[
                "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
                "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7",
                "Max-Forwards: 70",
                "To: Bob <sip:bob@biloxi.example.com>",
                "From: Bob <sip:bob@biloxi.example.com>;tag=456248",
                "Call-ID: {ID}@bobspc.biloxi.example.com",
                "CSeq: 1826 REGISTER",
                "Contact: <sip:bob@192.0.2.4>",
                "Expires: 7200",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "register-401",
            &[
                "SIP/2.0 401 Unauthorized",
                "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4",
                "To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd",
                "From: Bob <sip:bob@biloxi.example.com>;tag=456248",
                "Call-ID: {ID}@bobspc.biloxi.example.com",
                "CSeq: 1826 REGISTER",
                "WWW-Authenticate: Digest realm=\"atlanta.example.com\", qop=\"auth\", nonce=\"84f1c1ae6cbe5ua9c8e88dfa3ecm3459\", opaque=\"\", stale=FALSE, algorithm=MD5",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "ack",
            &[
                "ACK sip:bob@192.0.2.4 SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds9",
                "Max-Forwards: 70",
                "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314159 ACK",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "cancel",
            &[
                "CANCEL sip:bob@biloxi.example.com SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
                "Max-Forwards: 70",
                "To: Bob <sip:bob@biloxi.example.com>",
                "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314159 CANCEL",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "100-trying",
            &[
                "SIP/2.0 100 Trying",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
                "To: Bob <sip:bob@biloxi.example.com>",
                "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314159 INVITE",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "180-ringing",
            &[
                "SIP/2.0 180 Ringing",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
                "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "Contact: <sip:bob@192.0.2.4>",
                "CSeq: 314159 INVITE",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "486-busy",
            &[
                "SIP/2.0 486 Busy Here",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
                "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314159 INVITE",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "subscribe",
            &[
                "SUBSCRIBE sip:bob@biloxi.example.com SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds11",
                "Max-Forwards: 70",
                "To: <sip:bob@biloxi.example.com>",
                "From: <sip:alice@atlanta.example.com>;tag=xfg9",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 17766 SUBSCRIBE",
                "Event: presence",
                "Accept: application/pidf+xml",
                "Contact: <sip:alice@pc33.atlanta.example.com>",
                "Expires: 600",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "refer",
            &[
                "REFER sip:bob@192.0.2.4 SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds12",
                "Max-Forwards: 70",
                "To: <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 93809824 REFER",
                "Refer-To: <sip:carol@chicago.example.com>",
                "Referred-By: <sip:alice@atlanta.example.com>",
                "Contact: <sip:alice@pc33.atlanta.example.com>",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "message",
            &[
                "MESSAGE sip:user2@domain.example SIP/2.0",
                "Via: SIP/2.0/UDP user1pc.domain.example;branch=z9hG4bK776sgdkse",
                "Max-Forwards: 70",
                "From: sip:user1@domain.example;tag=49583",
                "To: sip:user2@domain.example",
                "Call-ID: {ID}@user1pc.domain.example",
                "CSeq: 1 MESSAGE",
                "Content-Type: text/plain",
                "Content-Length: *",
            ],
            "Watson, come here.\r\ni: not a header\r\nCall-ID: not a header either\r\n",
        ),
        (
            "info",
            &[
                "INFO sip:bob@192.0.2.4 SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds13",
                "Max-Forwards: 70",
                "To: <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314160 INFO",
                "Content-Type: application/dtmf-relay",
                "Content-Length: *",
            ],
            "Signal=5\r\nDuration=160\r\n",
        ),
        (
            "prack",
            &[
                "PRACK sip:bob@192.0.2.4 SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds14",
                "Max-Forwards: 70",
                "To: <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314161 PRACK",
                "RAck: 776656 314159 INVITE",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "update",
            &[
                "UPDATE sip:bob@192.0.2.4 SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds15",
                "Max-Forwards: 70",
                "To: <sip:bob@biloxi.example.com>;tag=a6c85cf",
                "From: <sip:alice@atlanta.example.com>;tag=1928301774",
                "Call-ID: {ID}@pc33.atlanta.example.com",
                "CSeq: 314162 UPDATE",
                "Session-Expires: 1800;refresher=uac",
                "Content-Length: 0",
            ],
            "",
        ),
        (
            "compact-invite",
            &[
                "INVITE sip:bob@biloxi.example.com SIP/2.0",
                "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKkjshdyff",
                "t: Bob <sip:bob@biloxi.example.com>",
                "f: Alice <sip:alice@atlanta.example.com>;tag=88sja8x",
                "Max-Forwards: 70",
                "i: {ID}@pc33.atlanta.example.com",
                "CSeq: 986759 INVITE",
                "m: <sip:alice@pc33.atlanta.example.com>",
                "k: 100rel",
                "c: application/sdp",
                "l: *",
            ],
            "SDP",
        ),
    ];
    for (kind, lines, body) in others {
        let id = c.id();
        let lines: Vec<String> = lines.iter().map(|l| l.replace("{ID}", &id)).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let body = if *body == "SDP" {
            sdp("Compact")
        } else {
            (*body).to_owned()
        };
        c.add(&format!("real/{kind}"), msg("\r\n", &lines, &body));
    }

    // NOTIFY with a message/sipfrag body that carries another Call-ID.
    for (kind, frag_status) in [
        ("notify-sipfrag", "SIP/2.0 200 OK"),
        ("notify-sipfrag-trying", "SIP/2.0 100 Trying"),
    ] {
        let id = c.id();
        let frag_id = c.id();
        let body = format!(
            "{frag_status}\r\nCall-ID: {frag_id}@chicago.example.com\r\nCSeq: 1 INVITE\r\n"
        );
        let cid = format!("Call-ID: {id}@pc33.atlanta.example.com");
        c.add(
            &format!("real/{kind}"),
            msg(
                "\r\n",
                &[
                    "NOTIFY sip:alice@pc33.atlanta.example.com SIP/2.0",
                    "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds16",
                    "Max-Forwards: 70",
                    "To: <sip:alice@atlanta.example.com>;tag=1928301774",
                    "From: <sip:bob@biloxi.example.com>;tag=a6c85cf",
                    &cid,
                    "CSeq: 1993402 NOTIFY",
                    "Event: refer",
                    "Subscription-State: active;expires=60",
                    "Content-Type: message/sipfrag;version=2.0",
                    "Content-Length: *",
                ],
                &body,
            ),
        );
    }

    // Long header sets, the Call-ID near the end.
    for (n_vias, n_routes) in [(6, 4), (8, 6), (10, 3)] {
        let id = c.id_of_len(40);
        let mut lines = vec!["INVITE sip:bob@biloxi.example.com SIP/2.0".to_owned()];
        for i in 0..n_vias {
            lines.push(format!("Via: SIP/2.0/UDP proxy{i}.example.com:5060;branch=z9hG4bK{i:04}abcdef;received=192.0.2.{i}"));
        }
        for i in 0..n_routes {
            lines.push(format!("Record-Route: <sip:proxy{i}.example.com;lr>"));
        }
        lines.extend(
            [
                "Max-Forwards: 60",
                "To: Bob <sip:bob@biloxi.example.com>",
                "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl",
                "Call-Info: <http://www.example.com/alice/photo.jpg> ;purpose=icon",
                "In-Reply-To: 70710@saturn.bell-tel.com",
                "User-Agent: Example/1.0",
            ]
            .map(str::to_owned),
        );
        lines.push(format!("Call-ID: {id}"));
        lines.push("CSeq: 2 INVITE".to_owned());
        lines.push("Content-Length: 0".to_owned());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        c.add(
            &format!("real/long-header-set/{n_vias}-vias"),
            msg("\r\n", &lines, ""),
        );
    }
}

// ---- Clean rules -----------------------------------------------------------------

fn rules(c: &mut Corpus) {
    for form in [
        "Call-ID", "i", "I", "call-id", "CALL-ID", "cAlL-iD", "Call-Id",
    ] {
        let id = c.id();
        c.add(
            &format!("rule/name/{form}"),
            req(&[&format!("{form}: {id}")]),
        );
    }
    let spacing = [
        ("no-space", ":", ""),
        ("space-before-colon", " : ", ""),
        ("tabs-around-colon", "\t:\t", ""),
        ("many-spaces", "  \t :  \t ", ""),
        ("fold-before-colon-crlf", "\r\n :", " "),
        ("fold-before-colon-lf", " \n\t: ", ""),
        ("fold-before-colon-cr", "\r : ", ""),
        ("fold-after-colon-crlf", ":\r\n ", ""),
        ("fold-after-colon-lf", ": \n\t\t", ""),
        ("fold-after-colon-cr", ":\r ", ""),
        ("folds-on-both-sides", "\r\n :\r\n\t", ""),
    ];
    for (name, around, _) in spacing {
        for form in ["Call-ID", "i"] {
            let id = c.id();
            c.add(
                &format!("rule/whitespace/{name}/{form}"),
                raw_req(&format!("{form}{around}{id}\r\n")),
            );
        }
    }
    for (name, eol) in [("crlf", "\r\n"), ("lf", "\n"), ("cr", "\r")] {
        let id = c.id();
        c.add(
            &format!("rule/line-end/{name}"),
            format!("BYE sip:a@example.com SIP/2.0{eol}Via: SIP/2.0/UDP h{eol}Call-ID: {id}{eol}CSeq: 1 BYE{eol}{eol}"),
        );
    }
    let id = c.id();
    c.add(
        "rule/line-end/mixed",
        format!("BYE sip:a@example.com SIP/2.0\nVia: v\rTo: t\r\ni: {id}\rCSeq: 2 BYE\n\r\n"),
    );
    let (a, b) = (c.id(), c.id());
    c.add(
        "rule/first-header-wins",
        req(&[&format!("i: {a}"), &format!("Call-ID: {b}")]),
    );
    let id = c.id();
    c.add(
        "rule/similar-names-skipped",
        req(&[
            "Call-Info: <http://www.example.com/alice/> ;purpose=info",
            "Identity: \"ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3Vgr\"",
            "In-Reply-To: 70710@saturn.bell-tel.com",
            "Ix: compact-looking but a letter follows",
            &format!("Call-ID: {id}"),
        ]),
    );
    let (a, b) = (c.id(), c.id());
    c.add(
        "rule/first-line-not-a-header",
        format!("Call-ID: {a}\r\nCall-ID: {b}\r\n\r\n"),
    );
    let a = c.id();
    c.add("rule/first-line-only", format!("Call-ID: {a}\r\n"));
    let a = c.id();
    c.add("rule/first-line-no-line-end", format!("i: {a}"));
    let id = c.id();
    let mut m = b"\r\n\r\n".to_vec();
    m.extend_from_slice(&req(&[&format!("Call-ID: {id}")]));
    c.add("rule/line-ends-before-start-line", m);
    let (a, b) = (c.id(), c.id());
    c.add(
        "rule/continuation-line-is-not-a-header",
        raw_req(&format!("Subject: lunch\r\n Call-ID: {a}\r\ni: {b}\r\n")),
    );
    let id = c.id();
    c.add(
        "rule/continuation-after-value",
        raw_req(&format!("Call-ID: {id}\r\n more\r\n")),
    );
    let id = c.id();
    c.add(
        "rule/one-continuation-line-only",
        raw_req(&format!("Call-ID:\r\n \r\n {id}\r\n")),
    );
    for (name, value) in [
        ("at-start", "@{ID}"),
        ("at-end", "{ID}@"),
        ("at-at", "{ID}@@host"),
        ("at-space", "{ID}@ host"),
        ("semicolon-first", ";{ID}"),
        ("comma-first", ", {ID}"),
    ] {
        let (bad, good) = (c.id(), c.id());
        let header = format!("Call-ID: {}\r\n", value.replace("{ID}", &bad));
        c.add(
            &format!("rule/malformed-skipped/{name}"),
            raw_req(&format!("{header}i: {good}\r\n")),
        );
        let bad = c.id();
        let header = format!("Call-ID: {}\r\n", value.replace("{ID}", &bad));
        c.add(&format!("rule/malformed-alone/{name}"), raw_req(&header));
    }
    let id = c.id();
    c.add(
        "rule/sdp-information-line",
        msg(
            "\r\n",
            &[
                "INVITE sip:bob@biloxi.example.com SIP/2.0",
                &format!("Call-ID: {id}"),
                "Content-Type: application/sdp",
                "Content-Length: *",
            ],
            &sdp("i: not a header"),
        ),
    );
    c.add("rule/nothing/keepalive", "\r\n\r\n");
    c.add(
        "rule/nothing/start-line-only",
        "OPTIONS sip:a@example.com SIP/2.0\r\n\r\n",
    );
    c.add(
        "rule/nothing/no-call-id",
        req(&["Via: SIP/2.0/UDP h", "To: <sip:a@example.com>"]),
    );
    c.add(
        "rule/nothing/colon-at-end",
        "OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID:",
    );
}

fn charset(c: &mut Corpus) {
    // Every special character of RFC 3261 `word`, inside an id.
    for ch in "-.!%*_+`'~()<>:\\\"/[]?{}".chars() {
        let id = format!("{}{ch}z", c.id());
        c.add(
            &format!("rule/charset/{:02x}", ch as u32),
            req(&[&format!("Call-ID: {id}")]),
        );
    }
    let id = format!("{}@[2001:db8::1]:5060", c.id());
    c.add("rule/charset/ipv6-host", req(&[&format!("Call-ID: {id}")]));
    // Latin-1 letters count as word characters, other high bytes do not.
    for b in [0xc0u8, 0xd6, 0xd8, 0xdf, 0xe9, 0xf6, 0xf8, 0xff] {
        let mut m = b"OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: ".to_vec();
        m.extend_from_slice(c.id().as_bytes());
        m.push(b);
        m.extend_from_slice(b"\r\n\r\n");
        c.add(&format!("rule/charset/latin1-{b:02x}"), m);
    }
    for b in [
        0x80u8, 0xa0, 0xbf, 0xd7, 0xf7, 0x00, 0x7f, b'#', b'$', b'&', b'=', b'^', b'|', b',',
    ] {
        let mut m = b"OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: ".to_vec();
        m.extend_from_slice(c.id().as_bytes());
        m.push(b);
        m.extend_from_slice(b"\r\n\r\n");
        c.add(&format!("rule/charset/not-word-{b:02x}"), m);
    }
}

fn lengths(c: &mut Corpus) {
    for len in [1usize, 7, 64, 128, 254, 255] {
        let id = match len {
            // Too short for a serial number: letters used nowhere else.
            1 => "q".to_owned(),
            7 => "qzxwvut".to_owned(),
            _ => c.id_of_len(len),
        };
        c.add(
            &format!("rule/length/{len}"),
            req(&[&format!("Call-ID: {id}")]),
        );
    }
    let local = c.id_of_len(127);
    let id = format!("{local}@{}", "h".repeat(127));
    c.add("rule/length/255-with-at", req(&[&format!("Call-ID: {id}")]));
    for len in [256usize, 300, 700] {
        let id = c.id_of_len(len);
        c.add(
            &format!("rule/length/{len}-too-long"),
            req(&[&format!("Call-ID: {id}")]),
        );
    }
    let local = c.id_of_len(128);
    let id = format!("{local}@{}", "h".repeat(127));
    c.add(
        "rule/length/256-with-at-too-long",
        req(&[&format!("Call-ID: {id}")]),
    );
    let (a, b) = (c.id_of_len(256), c.id());
    c.add(
        "rule/length/too-long-ends-search",
        req(&[&format!("Call-ID: {a}"), &format!("i: {b}")]),
    );
}

fn terminators(c: &mut Corpus) {
    for (name, tail) in [
        ("cr", "\r\n"),
        ("semicolon", ";tag=1\r\n"),
        ("comma", ",x\r\n"),
        ("space-text", " x\r\n"),
        ("tab-text", "\tx\r\n"),
        ("second-at", "@a@b\r\n"),
        ("equals", "=1\r\n"),
    ] {
        let id = c.id();
        c.add(
            &format!("rule/terminator/{name}"),
            format!("OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: {id}{tail}\r\n"),
        );
    }
    let id = c.id();
    c.add(
        "rule/terminator/lone-cr",
        format!("OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: {id}\r"),
    );
    let id = c.id();
    c.add(
        "rule/terminator/lone-lf",
        format!("OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: {id}\n"),
    );
    let id = c.id();
    c.add(
        "rule/terminator/end-of-data",
        format!("OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: {id}"),
    );
    let (a, b) = (c.id(), c.id());
    c.add(
        "rule/terminator/bad-ends-search",
        req(&[&format!("Call-ID: {a};x"), &format!("i: {b}")]),
    );
}

// ---- Quirks --------------------------------------------------------------------------

fn quirks(c: &mut Corpus) {
    // PrefixName
    for (name, line) in [
        ("call-idx", "Call-IDx: other"),
        ("call-id-dash", "Call-ID-Foo: other"),
        ("i-dash", "i-foo: bar"),
        ("i-digit", "i1: bar"),
        ("i-equals", "i=bar"),
        ("no-colon", "Call-ID other"),
        ("no-colon-compact", "i"),
        ("name-then-line-end", "Call-ID"),
    ] {
        let id = c.id();
        c.add(
            &format!("quirk/prefix_name/{name}"),
            raw_req(&format!("{line}\r\nCall-ID: {id}\r\n")),
        );
    }
    // EmptyValue
    for (name, line) in [
        ("crlf", "Call-ID:\r\n"),
        ("space-crlf", "Call-ID: \r\n"),
        ("compact-tab-lf", "i:\t\n"),
        ("cr", "i:\r"),
    ] {
        let id = c.id();
        c.add(
            &format!("quirk/empty_value/{name}"),
            raw_req(&format!("{line}i: {id}\r\n")),
        );
    }
    // RetryOffset
    let id = c.id();
    c.add(
        "quirk/retry_offset/misses",
        raw_req(&format!("i: ;a\r\ni: ;b\r\nCall-ID: {id}\r\n")),
    );
    let (right, wrong) = (c.id(), c.id());
    c.add(
        "quirk/retry_offset/picks-later",
        raw_req(&format!(
            "i: ;a\r\ni: ;b\r\nCall-ID: {right}\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\ni: {wrong}\r\n"
        )),
    );
    let (right, frag) = (c.id(), c.id());
    let mut m = raw_req(&format!(
        "Call-ID: @a\r\nCall-ID: @b\r\nCall-ID: {right}\r\nContent-Type: message/sipfrag\r\n"
    ));
    m.extend_from_slice(format!("SIP/2.0 200 OK\r\nTo: <sip:carol@chicago.example.com>;tag=1\r\nFrom: <sip:alice@atlanta.example.com>\r\nCall-ID: {frag}\r\n").as_bytes());
    c.add("quirk/retry_offset/picks-body", m);
    // TrailingWhitespace
    for (name, tail) in [
        ("space", " \r\n"),
        ("tab", "\t\r\n"),
        ("mixed-lf", " \t \n"),
    ] {
        let id = c.id();
        c.add(
            &format!("quirk/trailing_whitespace/{name}"),
            raw_req(&format!("Call-ID: {id}{tail}")),
        );
    }
    let id = format!("{}@pc33.atlanta.example.com", c.id());
    c.add(
        "quirk/trailing_whitespace/with-at",
        raw_req(&format!("i: {id} \r\n")),
    );
    // Body
    let frag = c.id();
    c.add(
        "quirk/body/notify-sipfrag-without-call-id",
        msg(
            "\r\n",
            &[
                "NOTIFY sip:alice@pc33.atlanta.example.com SIP/2.0",
                "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds17",
                "Event: refer",
                "Content-Type: message/sipfrag",
                "Content-Length: *",
            ],
            &format!("SIP/2.0 200 OK\r\nCall-ID: {frag}@chicago.example.com\r\n"),
        ),
    );
    let frag = c.id();
    c.add(
        "quirk/body/message-sip-without-call-id",
        msg(
            "\r\n",
            &[
                "MESSAGE sip:bob@biloxi.example.com SIP/2.0",
                "Content-Type: message/sip",
                "Content-Length: *",
            ],
            &format!("INVITE sip:carol@chicago.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\ni: {frag}\r\n\r\n"),
        ),
    );
    let frag = c.id();
    c.add(
        "quirk/body/after-malformed-header",
        msg(
            "\r\n",
            &["OPTIONS sip:a@example.com SIP/2.0", "Call-ID: @bad"],
            &format!("SIP/2.0 180 Ringing\r\ni: {frag}\r\n"),
        ),
    );
    let (skipped, taken) = (c.id(), c.id());
    c.add(
        "quirk/body/lf-lf-skips-a-line",
        format!("NOTIFY sip:a@b SIP/2.0\nEvent: refer\n\nCall-ID: {skipped}\nCall-ID: {taken}\n"),
    );
    c.add(
        "rule/sdp-information-line-without-call-id",
        msg(
            "\r\n",
            &[
                "INVITE sip:bob@biloxi.example.com SIP/2.0",
                "Content-Type: application/sdp",
                "Content-Length: *",
            ],
            &sdp("Seminar"),
        ),
    );
    // LeadingLineEnds
    let id = c.id();
    c.add(
        "quirk/leading_line_ends/crlf",
        format!("\r\nCall-ID: {id}\r\nVia: v\r\n\r\n"),
    );
    let id = c.id();
    c.add(
        "quirk/leading_line_ends/crlf-crlf",
        format!("\r\n\r\ni: {id}\r\nVia: v\r\n\r\n"),
    );
    let id = c.id();
    c.add("quirk/leading_line_ends/lf", format!("\ni: {id}\r\n\r\n"));
    // Several at once.
    let id = c.id();
    c.add(
        "quirk/combined/prefix-empty-retry-trailing",
        raw_req(&format!(
            "i-foo: x\r\nCall-ID:\r\ni: ;a\r\ni: ;b\r\nCall-ID: {id} \r\n"
        )),
    );
}

// ---- Malformed --------------------------------------------------------------------------

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn malformed(c: &mut Corpus) {
    // A message cut short at various places.
    for cut in [10usize, 40, 80, 95, 100, 105, 130, 200] {
        let id = c.id();
        let full = req(&[
            "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
            &format!("Call-ID: {id}"),
            "CSeq: 1 OPTIONS",
        ]);
        let end = cut.min(full.len());
        c.add(&format!("malformed/truncated-{cut}"), &full[..end]);
    }
    // Binary junk, text junk, NUL bytes.
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for i in 0..6 {
        let len = 20 + rng.below(300);
        let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if c.fits(&junk) {
            c.add(&format!("malformed/binary-{i}"), junk);
        }
    }
    let id = c.id();
    c.add(
        "malformed/nul-in-name",
        raw_req(&format!("Call\0ID: x\r\nCall-ID: {id}\r\n")),
    );
    let id = c.id();
    c.add(
        "malformed/nul-in-value",
        raw_req(&format!("Call-ID: {id}\0tail\r\n")),
    );
    let id = c.id();
    c.add(
        "malformed/no-start-line-end",
        format!("INVITE sip:a@b SIP/2.0 Call-ID: {id}"),
    );
    let id = c.id();
    c.add("malformed/colon-only", raw_req(&format!(":\r\n: {id}\r\n")));
    let id = c.id();
    c.add(
        "malformed/header-without-value",
        raw_req(&format!("Call-ID\r\n\r\nCall-ID: {id}\r\n")),
    );
}

/// Realistic messages with random edits (SIP tokens inserted, bytes removed
/// or overwritten): a sample of what real networks and attackers send.
fn mutated(c: &mut Corpus) {
    const TOKENS: &[&str] = &[
        "\r\n", "\r", "\n", " ", "\t", ":", "@", ";", "i", "I", "Call-ID", "i-", "\r\n ",
        "\r\n\r\n", "x",
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut added = 0;
    while added < 40 {
        let id = format!("{}@pc33.atlanta.example.com", c.id());
        let mut m = msg(
            "\r\n",
            &[
                "INVITE sip:bob@biloxi.example.com SIP/2.0",
                "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
                "To: Bob <sip:bob@biloxi.example.com>",
                "Subject: lunch",
                &format!("Call-ID: {id}"),
                "CSeq: 314159 INVITE",
                "Content-Length: 0",
            ],
            "",
        );
        // Edits near the Call-ID line, where they matter.
        let base = m.len() / 2;
        for _ in 0..1 + rng.below(3) {
            let at = (base + rng.below(80)).saturating_sub(40).min(m.len());
            let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
            match rng.below(3) {
                0 => {
                    m.splice(at..at, token.iter().copied());
                }
                1 => {
                    let end = (at + 1 + rng.below(3)).min(m.len());
                    m.drain(at..end);
                }
                _ => {
                    let end = (at + token.len()).min(m.len());
                    m.splice(at..end, token.iter().copied());
                }
            }
        }
        if c.fits(&m) {
            added += 1;
            c.add(&format!("mutated/{added:02}"), m);
        }
    }
}
