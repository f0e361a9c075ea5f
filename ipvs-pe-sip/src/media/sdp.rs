//! SDP (RFC 8866) to media endpoints: the connection address (`c=`, session level,
//! overridden by media level), each `m=` line's port and `port/count` range, and RTCP (the
//! port after each RTP port, or RFC 3605's `a=rtcp:PORT [IN IP4|IP6 ADDR]`, or none with
//! RFC 5761's `a=rtcp-mux`, which multiplexes it on the RTP port).
//!
//! One pass over the lines, keeping only the session's address and the stream being read;
//! a stream's endpoints are written when its block ends (the next `m=` or the end), since
//! its `c=` and attributes follow its `m=` line. Lines of other types, and other
//! attributes, are skipped unread.

use super::addr::{decimal, ipv4, ipv6};
use super::lines::{is_wsp, trim_end, Lines};
use super::{Addr, Endpoint, Flow, MediaError, MediaSet, Push, MAX_MEDIA};

/// Parses the SDP `sdp` into `set`.
pub(super) fn parse(sdp: &[u8], set: &mut MediaSet) -> Result<(), MediaError> {
    let mut lines = Lines::new(sdp);
    // RFC 8866: an SDP description starts with its version line.
    if !lines.next().is_some_and(|l| l.starts_with(b"v=")) {
        return Err(MediaError::BadSdp);
    }
    let mut session: Option<Addr> = None;
    let mut stream: Option<Stream> = None;
    let mut media = 0usize;
    for line in lines {
        let [kind, b'=', value @ ..] = line else {
            continue;
        };
        match (kind, &mut stream) {
            (b'm', _) => {
                if let Some(done) = stream.take() {
                    done.emit(session, set)?;
                }
                media = media.saturating_add(1);
                if media > MAX_MEDIA {
                    return Err(MediaError::TooManyMedia);
                }
                stream = Some(Stream::parse(value).ok_or(MediaError::BadMedia)?);
            }
            (b'c', None) => set_once(&mut session, value)?,
            (b'c', Some(current)) => set_once(&mut current.addr, value)?,
            (b'a', Some(current)) => current.attribute(value)?,
            _ => {}
        }
    }
    match stream {
        Some(last) => last.emit(session, set),
        None => Ok(()),
    }
}

/// Reads the `c=` line `value` into `slot`: one per level (several are for layered
/// multicast, which a call does not use).
fn set_once(slot: &mut Option<Addr>, value: &[u8]) -> Result<(), MediaError> {
    if slot.is_some() {
        return Err(MediaError::BadConnection);
    }
    *slot = Some(connection(&mut words(value)).ok_or(MediaError::BadConnection)?);
    Ok(())
}

/// The words of a line, split at runs of SP/HTAB.
fn words(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|&b| is_wsp(b)).filter(|w| !w.is_empty())
}

/// The address of `IN IP4 ADDR` or `IN IP6 ADDR` (the rest of a `c=` line, or of an
/// `a=rtcp` attribute), and nothing after it. A multicast address's `/ttl` or
/// `/number` is allowed and left out (a multicast address is never a datagram's source).
fn connection<'a>(words: &mut impl Iterator<Item = &'a [u8]>) -> Option<Addr> {
    let net = words.next()?;
    let family = words.next()?;
    let text = words.next()?;
    if words.next().is_some() || !net.eq_ignore_ascii_case(b"IN") {
        return None;
    }
    let mut pieces = text.split(|&b| b == b'/');
    let address = pieces.next()?;
    if !pieces.all(|n| decimal(n).is_some()) {
        return None;
    }
    if family.eq_ignore_ascii_case(b"IP4") {
        ipv4(address).map(Addr::V4)
    } else if family.eq_ignore_ascii_case(b"IP6") {
        ipv6(address).map(Addr::V6)
    } else {
        None
    }
}

/// A port number, 0 to 65535 in at most five digits.
fn port(digits: &[u8]) -> Option<u16> {
    if digits.len() > 5 {
        return None;
    }
    u16::try_from(decimal(digits)?).ok()
}

/// What an `m=` line's transport carries.
#[derive(Clone, Copy, PartialEq)]
enum Transport {
    /// RTP (any profile: `RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...), with RTCP.
    Rtp,
    /// Other datagrams (`udp`, `udptl` for T.38 fax, `UDP/DTLS/SCTP`, ...), no RTCP.
    Udp,
    /// Not over UDP (`TCP/MSRP`, `TCP/BFCP`, ...): nothing for a UDP service to learn.
    NotUdp,
}

/// The media stream being read: its `m=` line and what its block has said so far.
struct Stream {
    port: u16,
    /// Ports of the range, at least 1.
    count: u16,
    transport: Transport,
    /// Its own `c=` address.
    addr: Option<Addr>,
    /// `a=rtcp`: the port, and the address if it has one.
    rtcp: Option<(u16, Option<Addr>)>,
    /// `a=rtcp-mux`.
    mux: bool,
}

impl Stream {
    /// Reads an `m=` line's value: `media SP port["/"count] SP proto *(SP fmt)`.
    fn parse(value: &[u8]) -> Option<Self> {
        let mut words = words(value);
        let _media = words.next()?;
        let mut range = words.next()?.split(|&b| b == b'/');
        let first = port(range.next()?)?;
        let count = match range.next() {
            None => 1,
            Some(n) => port(n).filter(|&n| n > 0)?,
        };
        let proto = words.next()?;
        if range.next().is_some() {
            return None;
        }
        let transport = if proto.windows(3).any(|w| w.eq_ignore_ascii_case(b"RTP")) {
            Transport::Rtp
        } else if proto
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"TCP"))
        {
            Transport::NotUdp
        } else {
            Transport::Udp
        };
        Some(Self {
            port: first,
            count,
            transport,
            addr: None,
            rtcp: None,
            mux: false,
        })
    }

    /// Reads an `a=` line of the stream's block; only `rtcp` and `rtcp-mux` matter.
    fn attribute(&mut self, value: &[u8]) -> Result<(), MediaError> {
        let value = trim_end(value, is_wsp);
        if value == b"rtcp-mux" {
            self.mux = true;
        } else if let Some(rest) = value.strip_prefix(b"rtcp:") {
            if self.rtcp.is_some() {
                return Err(MediaError::BadRtcp);
            }
            let mut words = words(rest);
            let rtcp_port = words
                .next()
                .and_then(port)
                .filter(|&p| p != 0)
                .ok_or(MediaError::BadRtcp)?;
            let mut words = words.peekable();
            let addr = match words.peek() {
                None => None,
                Some(_) => Some(connection(&mut words).ok_or(MediaError::BadRtcp)?),
            };
            self.rtcp = Some((rtcp_port, addr));
        }
        Ok(())
    }

    /// Writes the stream's endpoints into `set`, the session's address `session` standing
    /// in for a `c=` of its own. A disabled stream (port 0) or one not over UDP has none.
    fn emit(self, session: Option<Addr>, set: &mut MediaSet) -> Result<(), MediaError> {
        if self.port == 0 || self.transport == Transport::NotUdp {
            return Ok(());
        }
        let addr = self.addr.or(session).ok_or(MediaError::NoConnection)?;
        let rtp = self.transport == Transport::Rtp;
        // RTP takes every other port of the range, each with its RTCP port after it
        // (RFC 8866 5.14); other transports take consecutive ports.
        let step: u16 = if rtp { 2 } else { 1 };
        // a=rtcp names one stream's port: with a range, each port's RTCP is the default.
        let explicit_rtcp = self.rtcp.filter(|_| self.count == 1);
        let default_rtcp = rtp && !self.mux && explicit_rtcp.is_none();
        // The range, its default RTCP port included, must fit in 16 bits.
        u32::from(self.count)
            .checked_sub(1)
            .and_then(|n| n.checked_mul(u32::from(step)))
            .and_then(|n| n.checked_add(u32::from(self.port)))
            .and_then(|n| n.checked_add(u32::from(default_rtcp)))
            .filter(|&last| last <= u32::from(u16::MAX))
            .ok_or(MediaError::BadMedia)?;
        let mut port = self.port;
        // Each turn adds an endpoint, or meets ones already there (each at most once: the
        // range's ports all differ), or finds the set full and ends: at most
        // 2 * MAX_ENDPOINTS + 1 turns, whatever the count.
        for i in 0..self.count {
            if i > 0 {
                port = port.checked_add(step).ok_or(MediaError::BadMedia)?;
            }
            let flow = if rtp { Flow::Rtp } else { Flow::Udp };
            if set.push(Endpoint { addr, port, flow }) == Push::Full {
                break;
            }
            if !rtp || self.mux {
                continue;
            }
            let (rtcp_addr, rtcp_port) = match explicit_rtcp {
                Some((p, a)) => (a.unwrap_or(addr), p),
                None => (addr, port.checked_add(1).ok_or(MediaError::BadMedia)?),
            };
            let rtcp = Endpoint {
                addr: rtcp_addr,
                port: rtcp_port,
                flow: Flow::Rtcp,
            };
            if set.push(rtcp) == Push::Full {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Addr = Addr::V4([192, 0, 2, 1]);

    fn ep(addr: Addr, port: u16, flow: Flow) -> Endpoint {
        Endpoint { addr, port, flow }
    }

    fn parsed(sdp: &str) -> Result<MediaSet, MediaError> {
        let mut set = MediaSet::new();
        parse(sdp.as_bytes(), &mut set).map(|()| set)
    }

    #[test]
    fn connections() {
        let c = |s: &str| connection(&mut words(s.as_bytes()));
        assert_eq!(c("IN IP4 192.0.2.1"), Some(V4));
        assert_eq!(c("IN  IP4\t192.0.2.1 "), Some(V4));
        assert_eq!(c("in ip4 192.0.2.1"), Some(V4));
        assert_eq!(c("IN IP4 224.2.1.1/127/3"), Some(Addr::V4([224, 2, 1, 1])));
        assert_eq!(
            c("IN IP6 ::1"),
            Some(Addr::V6(core::array::from_fn(|i| u8::from(i == 15))))
        );
        for bad in [
            "",
            "IN IP4",
            "IN IP4 192.0.2.1 x",
            "IN IP4 ::1",
            "IN IP6 192.0.2.1",
            "IN IP4 host.example.com",
            "ATM NSAP 47.0005.80.ffe100.0000.f2",
            "IN IP4 224.2.1.1/",
            "IN IP4 224.2.1.1/x",
        ] {
            assert_eq!(c(bad), None, "{bad}");
        }
    }

    #[test]
    fn streams() {
        let set = parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 49170 RTP/AVP 0\nm=image 5000 udptl t38\nm=message 7 TCP/MSRP *\n").unwrap();
        assert_eq!(
            set.endpoints(),
            [
                ep(V4, 49170, Flow::Rtp),
                ep(V4, 49171, Flow::Rtcp),
                ep(V4, 5000, Flow::Udp)
            ]
        );
        assert!(!set.is_truncated());
        let set =
            parsed("v=0\nc=IN IP4 192.0.2.1\nm=video 5000/2 RTP/AVP 31\nm=audio 6000/2 udp 0\n")
                .unwrap();
        let ports: [(u16, Flow); 6] = [
            (5000, Flow::Rtp),
            (5001, Flow::Rtcp),
            (5002, Flow::Rtp),
            (5003, Flow::Rtcp),
            (6000, Flow::Udp),
            (6001, Flow::Udp),
        ];
        assert!(set.endpoints().iter().map(|e| (e.port, e.flow)).eq(ports));
    }

    #[test]
    fn ranges_at_the_top_of_the_port_space() {
        assert!(parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65534 RTP/AVP 0\n").is_ok());
        assert_eq!(
            parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65535 RTP/AVP 0\n").err(),
            Some(MediaError::BadMedia)
        );
        assert!(parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65535 RTP/AVP 0\na=rtcp-mux\n").is_ok());
        assert!(parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65535 RTP/AVP 0\na=rtcp:9\n").is_ok());
        assert_eq!(
            parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65530/4 RTP/AVP 0\n").err(),
            Some(MediaError::BadMedia)
        );
        assert!(parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 65532/4 udp 0\n").is_ok());
        // A huge count fills the set and stops.
        let set = parsed("v=0\nc=IN IP4 192.0.2.1\nm=audio 2/32767 RTP/AVP 0\n").unwrap();
        assert!(set.is_truncated());
        assert_eq!(set.endpoints().len(), super::super::MAX_ENDPOINTS);
    }

    #[test]
    fn bad_lines() {
        let c = "v=0\nc=IN IP4 192.0.2.1\n";
        for (sdp, err) in [
            ("", MediaError::BadSdp),
            ("\nv=0\n", MediaError::BadSdp),
            ("m=audio 1 RTP/AVP 0\n", MediaError::BadSdp),
            ("v=0\nm=audio 1 RTP/AVP 0\n", MediaError::NoConnection),
            (
                "v=0\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\n",
                MediaError::BadConnection,
            ),
            ("v=0\nc=IN IP4 x\n", MediaError::BadConnection),
        ] {
            assert_eq!(parsed(sdp).err(), Some(err), "{sdp:?}");
        }
        for (media, err) in [
            ("m=audio\n", MediaError::BadMedia),
            ("m=audio 1\n", MediaError::BadMedia),
            ("m=audio x RTP/AVP 0\n", MediaError::BadMedia),
            ("m=audio 65536 RTP/AVP 0\n", MediaError::BadMedia),
            ("m=audio 000001 RTP/AVP 0\n", MediaError::BadMedia),
            ("m=audio 1/0 RTP/AVP 0\n", MediaError::BadMedia),
            ("m=audio 1/2/3 RTP/AVP 0\n", MediaError::BadMedia),
            ("m=audio 2 RTP/AVP 0\na=rtcp:0\n", MediaError::BadRtcp),
            ("m=audio 2 RTP/AVP 0\na=rtcp:\n", MediaError::BadRtcp),
            (
                "m=audio 2 RTP/AVP 0\na=rtcp:9 IN IP4\n",
                MediaError::BadRtcp,
            ),
            (
                "m=audio 2 RTP/AVP 0\na=rtcp:9\na=rtcp:9\n",
                MediaError::BadRtcp,
            ),
            (
                "m=audio 2 RTP/AVP 0\nc=IN IP7 ::\n",
                MediaError::BadConnection,
            ),
        ] {
            let sdp = std::format!("{c}{media}");
            assert_eq!(parsed(&sdp).err(), Some(err), "{sdp:?}");
        }
    }

    extern crate std;
}
