//! A call's media endpoints from the SDP of a SIP message, for "media follows its call"
//! (issue 26): the engine learns where a client will send RTP from, so that a datagram of
//! that media, which has no Call-ID, can be given its call's.
//!
//! Like `callid.rs`, this runs in softirq on every SIP datagram that carries a body, on
//! untrusted bytes: it never panics, allocates nothing, uses `core` only and nothing newer
//! than the kernel's minimum Rust (1.78), and writes its answer into the caller's
//! [`MediaSet`], at most [`MAX_ENDPOINTS`] endpoints. Its work is linear in the datagram's
//! length: the header section is read once, the body once per level of multipart nesting
//! (at most [`MAX_MULTIPART_DEPTH`]), and every bound is a constant of this file.
//!
//! The kernel module compiles this folder as a module of its own crate
//! (`#[path = ".../media/mod.rs"] pub mod media;`); its files refer to each other by
//! `super::` only.
//!
//! Two steps, so that the engine reads a body only when it wants its media:
//!
//! 1. [`message`] reads the start line (request and method, or response and status code),
//!    the `CSeq` method, and where the body is (`Content-Type`/`c`, `Content-Length`/`l`,
//!    the empty line).
//! 2. [`Message::media`] finds the SDP (`application/sdp`, directly or as a part of a
//!    `multipart/*` body) and writes its endpoints.
//!
//! Who may learn what is the caller's rule: an endpoint should be learnt only if its
//! address is the datagram's source address ([`Endpoint::addr`] against [`Addr`] of the
//! source), as `nf_conntrack_sip` does by default, or one client could steer another's
//! media.

mod addr;
mod body;
mod lines;
mod sdp;
mod sip;

/// Most endpoints a [`MediaSet`] holds: an audio and a video stream with their RTCP
/// ports take 4; past 8 the set is marked truncated.
pub const MAX_ENDPOINTS: usize = 8;

/// Most `m=` lines an SDP may have; more is [`MediaError::TooManyMedia`].
pub const MAX_MEDIA: usize = 16;

/// Longest multipart boundary (RFC 2046); a longer one is [`MediaError::BadMultipart`].
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Most levels of multipart bodies: a `multipart/alternative` inside a `multipart/mixed`
/// is 2; deeper is [`MediaError::BadMultipart`].
pub const MAX_MULTIPART_DEPTH: usize = 2;

/// A SIP method, as far as the engine needs one (methods are case-sensitive: `invite` is
/// [`Method::Other`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `INVITE`: starts a call (or re-negotiates it); its SDP is an offer.
    Invite,
    /// `ACK`: may carry the answer to an offerless `INVITE`'s offer.
    Ack,
    /// `BYE`: ends a call.
    Bye,
    /// `CANCEL`: ends a call that has not been answered.
    Cancel,
    /// `UPDATE` (RFC 3311): may carry a new offer within the call, before or after its
    /// answer.
    Update,
    /// `PRACK` (RFC 3262): may carry an offer or an answer of early media.
    Prack,
    /// Any other method (`OPTIONS`, `MESSAGE`, `INFO`, ...).
    Other,
}

impl Method {
    /// The method named `token`.
    fn from_token(token: &[u8]) -> Self {
        match token {
            b"INVITE" => Self::Invite,
            b"ACK" => Self::Ack,
            b"BYE" => Self::Bye,
            b"CANCEL" => Self::Cancel,
            b"UPDATE" => Self::Update,
            b"PRACK" => Self::Prack,
            _ => Self::Other,
        }
    }
}

/// What the start line of a message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StartLine {
    /// A request, with its method.
    Request(Method),
    /// A response, with its status code (100 to 699).
    Response(u16),
}

/// An IP address, its bytes in network order (as in the IP header: `iph->saddr`'s four
/// bytes, `ip6h->saddr`'s sixteen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// IPv4 (`c=IN IP4 ...`).
    V4([u8; 4]),
    /// IPv6 (`c=IN IP6 ...`).
    V6([u8; 16]),
}

impl Addr {
    /// The address's bytes: 4 for IPv4, 16 for IPv6.
    #[must_use]
    pub fn octets(&self) -> &[u8] {
        match self {
            Self::V4(a) => a,
            Self::V6(a) => a,
        }
    }
}

/// What an endpoint's port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    /// RTP, from an RTP stream's port (and, with `a=rtcp-mux`, its RTCP too).
    Rtp,
    /// RTCP, on the port after the RTP port or the one `a=rtcp` names.
    Rtcp,
    /// Datagrams of a stream that is not RTP (`udptl` for T.38 fax, `udp`): no RTCP.
    Udp,
}

/// Where a client said it will receive (and, symmetric RTP, send) a stream: an address, a
/// UDP port (never 0), and what flows there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The `c=` address of the stream (or `a=rtcp`'s own, for its RTCP).
    pub addr: Addr,
    /// The UDP port, in host order.
    pub port: u16,
    /// RTP, RTCP or other datagrams.
    pub flow: Flow,
}

/// The endpoints of one message's SDP, in the order of its streams (each RTP port followed
/// by its RTCP port), each (address, port) once; at most [`MAX_ENDPOINTS`], in storage the
/// caller owns (`MAX_ENDPOINTS` × 20 bytes and a little more, fine on a softirq stack).
#[derive(Clone, Debug)]
pub struct MediaSet {
    endpoints: [Endpoint; MAX_ENDPOINTS],
    len: usize,
    truncated: bool,
}

/// What [`MediaSet::push`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Push {
    Added,
    /// The (address, port) is there already; the set is unchanged.
    Duplicate,
    /// The set is full; it is now marked truncated.
    Full,
}

impl MediaSet {
    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        const UNUSED: Endpoint = Endpoint {
            addr: Addr::V4([0; 4]),
            port: 0,
            flow: Flow::Rtp,
        };
        Self {
            endpoints: [UNUSED; MAX_ENDPOINTS],
            len: 0,
            truncated: false,
        }
    }

    /// The endpoints found.
    #[must_use]
    pub fn endpoints(&self) -> &[Endpoint] {
        self.endpoints.get(..self.len).unwrap_or_default()
    }

    /// Whether the SDP had more endpoints than [`MAX_ENDPOINTS`]: the set holds the first
    /// ones.
    #[must_use]
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    /// Adds `endpoint` unless its (address, port) is there already, or the set is full.
    fn push(&mut self, endpoint: Endpoint) -> Push {
        let there = self
            .endpoints()
            .iter()
            .any(|e| e.addr == endpoint.addr && e.port == endpoint.port);
        if there {
            return Push::Duplicate;
        }
        match self.endpoints.get_mut(self.len) {
            Some(slot) => {
                *slot = endpoint;
                // Below MAX_ENDPOINTS: `get_mut` found the slot.
                self.len = self.len.saturating_add(1);
                Push::Added
            }
            None => {
                self.truncated = true;
                Push::Full
            }
        }
    }
}

impl Default for MediaSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a message gave no media endpoints. Every variant but [`MediaError::NotSip`] comes
/// from [`Message::media`], after the start line and the headers were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaError {
    /// The first line is neither a SIP request line nor a SIP status line.
    NotSip,
    /// The message has no body: no empty line after the headers, or nothing after it
    /// (`Content-Length: 0` included).
    NoBody,
    /// `Content-Length` is not a decimal number.
    BadContentLength,
    /// `Content-Length` is longer than what the datagram holds after the headers.
    BodyCutOff,
    /// The `Content-Type` (of the message or of a part) is not `type/subtype` with
    /// well-formed parameters.
    BadContentType,
    /// There is no SDP: no `Content-Type`, another type, or no `application/sdp` part.
    NoSdp,
    /// A multipart body without a usable boundary, without delimiters, cut off before
    /// its closing delimiter, or nested deeper than [`MAX_MULTIPART_DEPTH`].
    BadMultipart,
    /// The SDP does not start with a `v=` line.
    BadSdp,
    /// A `c=` line is not `IN IP4 address` or `IN IP6 address`, or is the second of its
    /// level.
    BadConnection,
    /// An enabled stream has no address: no `c=` at its level nor the session's.
    NoConnection,
    /// An `m=` line is not `media port[/count] proto ...`, or its ports pass 65535.
    BadMedia,
    /// An `a=rtcp` attribute is not `rtcp:port [IN IP4|IP6 address]` (port not 0), or is
    /// the stream's second.
    BadRtcp,
    /// More than [`MAX_MEDIA`] `m=` lines.
    TooManyMedia,
}

impl MediaError {
    /// Every reason, in declaration order (for counters indexed by reason).
    pub const ALL: [Self; 13] = [
        Self::NotSip,
        Self::NoBody,
        Self::BadContentLength,
        Self::BodyCutOff,
        Self::BadContentType,
        Self::NoSdp,
        Self::BadMultipart,
        Self::BadSdp,
        Self::BadConnection,
        Self::NoConnection,
        Self::BadMedia,
        Self::BadRtcp,
        Self::TooManyMedia,
    ];

    /// Short stable lowercase name of the reason, for the module's statistics, like
    /// `CallIdError::name`: an interface, never rename them.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NotSip => "not_sip",
            Self::NoBody => "no_body",
            Self::BadContentLength => "bad_content_length",
            Self::BodyCutOff => "body_cut_off",
            Self::BadContentType => "bad_content_type",
            Self::NoSdp => "no_sdp",
            Self::BadMultipart => "bad_multipart",
            Self::BadSdp => "bad_sdp",
            Self::BadConnection => "bad_connection",
            Self::NoConnection => "no_connection",
            Self::BadMedia => "bad_media",
            Self::BadRtcp => "bad_rtcp",
            Self::TooManyMedia => "too_many_media",
        }
    }
}

/// A SIP message's start line, `CSeq` method and body, borrowed from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// Request (and method) or response (and status code).
    pub start: StartLine,
    /// The method of the first `CSeq` header; `None` if there is none or it is malformed.
    /// A response's says which request it answers (a `200` to a `BYE`).
    pub cseq: Option<Method>,
    /// The first `Content-Type` (or `c`) header's raw value.
    content_type: Option<&'a [u8]>,
    /// The first `Content-Length` (or `l`) header's raw value.
    content_length: Option<&'a [u8]>,
    /// Everything after the empty line that ends the headers; `None` if there is none.
    rest: Option<&'a [u8]>,
}

/// Reads the start line and headers of the SIP message `payload` (a UDP payload).
///
/// Line ends before the start line are skipped, as in `callid.rs`. The header section is
/// read once, up to the empty line; the body is not looked at.
///
/// # Errors
///
/// [`MediaError::NotSip`] if the first line is neither a request line nor a status line.
pub fn message(payload: &[u8]) -> Result<Message<'_>, MediaError> {
    let payload = lines::skip_while(payload, lines::is_line_end);
    let (first, headers) = lines::split_line(payload);
    let start = sip::start_line(first).ok_or(MediaError::NotSip)?;
    let mut msg = Message {
        start,
        cseq: None,
        content_type: None,
        content_length: None,
        rest: None,
    };
    let mut cseq_seen = false;
    let mut fields = sip::Fields::new(headers);
    for field in fields.by_ref() {
        if field.is(b"CSeq", None) {
            if !cseq_seen {
                cseq_seen = true;
                msg.cseq = sip::cseq_method(field.value);
            }
        } else if field.is(b"Content-Type", Some(b'c')) {
            msg.content_type = msg.content_type.or(Some(field.value));
        } else if field.is(b"Content-Length", Some(b'l')) {
            msg.content_length = msg.content_length.or(Some(field.value));
        }
    }
    msg.rest = fields.body();
    Ok(msg)
}

impl<'a> Message<'a> {
    /// Whether this message ends a call's media: a `BYE` or `CANCEL` request, or a
    /// response whose `CSeq` is one.
    #[must_use]
    pub fn ends_call(&self) -> bool {
        let method = match self.start {
            StartLine::Request(m) => Some(m),
            StartLine::Response(_) => self.cseq,
        };
        matches!(method, Some(Method::Bye | Method::Cancel))
    }

    /// Whether this message may hold an offer or an answer of its call's media (RFC 3264,
    /// where RFC 6337 lists them): an `INVITE`, `ACK`, `UPDATE` or `PRACK` request, or a
    /// provisional or successful response (1xx, 2xx) to an `INVITE`, `UPDATE` or `PRACK` (by
    /// its `CSeq`). Not other requests (`OPTIONS`, `MESSAGE`, ...) nor their responses, and
    /// not a failure: a 200 to an `OPTIONS`, and a 488 or 606, may describe capabilities,
    /// ports with no call behind them (RFC 3261, 21.4.26).
    #[must_use]
    pub fn negotiates_media(&self) -> bool {
        match self.start {
            StartLine::Request(m) => {
                matches!(
                    m,
                    Method::Invite | Method::Ack | Method::Update | Method::Prack
                )
            }
            StartLine::Response(code) => {
                code < 300
                    && matches!(
                        self.cseq,
                        Some(Method::Invite | Method::Update | Method::Prack)
                    )
            }
        }
    }

    /// The body: the bytes after the empty line, `Content-Length` of them if the message
    /// says (further bytes of the datagram are ignored), else all of them.
    ///
    /// # Errors
    ///
    /// [`MediaError::NoBody`], [`MediaError::BadContentLength`] or
    /// [`MediaError::BodyCutOff`].
    pub fn body(&self) -> Result<&'a [u8], MediaError> {
        let rest = self.rest.ok_or(MediaError::NoBody)?;
        let body = match self.content_length {
            None => rest,
            Some(value) => {
                let len = sip::content_length(value).ok_or(MediaError::BadContentLength)?;
                rest.get(..len).ok_or(MediaError::BodyCutOff)?
            }
        };
        if body.is_empty() {
            return Err(MediaError::NoBody);
        }
        Ok(body)
    }

    /// Finds the message's SDP and writes its endpoints into `set`, which is emptied
    /// first and left empty on an error.
    ///
    /// Streams with port 0 are skipped, and so are streams not over UDP. Each RTP port is
    /// followed by its RTCP port (the next one, or `a=rtcp`'s), or by none with
    /// `a=rtcp-mux`. A `port/count` range gives every port of it, up to the set's bound;
    /// past [`MAX_ENDPOINTS`] the set is marked truncated and keeps the first ones. An SDP
    /// without enabled streams gives an empty set.
    ///
    /// # Errors
    ///
    /// Any [`MediaError`] but `NotSip`: no body, no SDP, or a malformed one.
    pub fn media(&self, set: &mut MediaSet) -> Result<(), MediaError> {
        set.clear();
        let result = self
            .body()
            .and_then(|body| body::find_sdp(self.content_type, body, 0, set));
        if result.is_err() {
            set.clear();
        }
        result
    }
}
