//! The client: one generic netlink socket, the `IPVS` family resolved once,
//! and every request over them.

use std::fmt::Debug;
use std::io::{self, Cursor};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use std::time::Duration;

use neli::consts::genl::{CtrlAttr, CtrlCmd};
use neli::consts::nl::{GenlId, NlType, NlmF};
use neli::consts::socket::{Msg, NlFamily};
use neli::genl::{Genlmsghdr, GenlmsghdrBuilder, NlattrBuilder};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::NlSocket;
use neli::types::{GenlBuffer, NlBuffer};
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};

use crate::codec::{self, ids, Attrs, Reader};
use crate::{
    Change, Destination, Error, Info, Object, Op, Result, Service, ServiceKey, SyncDaemon, Timeouts,
};

/// An IPVS message: a generic netlink header with `IPVS_CMD_*` and
/// `u16`-typed attributes.
type Msg16 = Genlmsghdr<u8, u16>;

/// Changes sent in one datagram by [`Client::apply_all`]: the kernel handles
/// every message of a datagram in turn and acknowledges each, so a restore
/// costs one round trip per batch instead of one per change. Sized so the
/// acknowledgements (which echo failed requests) fit the default receive
/// buffer.
const BATCH: usize = 64;

/// Receive buffer: the largest datagram the kernel sends a dump in.
const RECV_BUF: usize = 64 * 1024;

/// A connection to the kernel's IPVS.
///
/// Requests are synchronous; one client serves one thread at a time.
///
/// ```no_run
/// let mut ipvs = ipvs::Client::connect()?;
/// for service in ipvs.services()? {
///     let servers = ipvs.destinations(&service.key)?;
///     println!("{} {}: {} servers", service.key, service.scheduler, servers.len());
/// }
/// # Ok::<(), ipvs::Error>(())
/// ```
pub struct Client {
    sock: NlSocket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("fd", &self.sock.as_raw_fd())
            .field("family", &self.family)
            .finish()
    }
}

/// Opens a generic netlink socket in the calling thread's network namespace.
pub(crate) fn open_socket() -> Result<NlSocket> {
    let io = |source| Error::Io {
        op: Op::Connect,
        source,
    };
    let sock = NlSocket::connect(NlFamily::Generic, Some(0), Groups::empty()).map_err(io)?;
    sock.block().map_err(io)?;
    Ok(sock)
}

impl Client {
    /// Connects to IPVS in the caller's network namespace.
    ///
    /// Fails with [`Error::NoFamily`] if the kernel has no IPVS (its module
    /// may need loading).
    pub fn connect() -> Result<Self> {
        Self::with_socket(open_socket()?)
    }

    /// Connects to IPVS in the network namespace at `path` (such as
    /// `/run/netns/NAME` or `/proc/PID/ns/net`), without moving the calling
    /// thread: the socket is opened by a short-lived thread that enters the
    /// namespace, and a socket stays in the namespace it was opened in.
    ///
    /// Needs `CAP_SYS_ADMIN` (to enter the namespace).
    pub fn connect_in_netns(path: impl AsRef<Path>) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            op: Op::Connect,
            source,
        })?;
        Self::connect_in_netns_fd(std::os::fd::AsFd::as_fd(&file))
    }

    /// [`Client::connect_in_netns`] with the namespace as an open file.
    pub fn connect_in_netns_fd(netns: BorrowedFd<'_>) -> Result<Self> {
        Self::with_socket(crate::netns::open_socket_in(netns)?)
    }

    fn with_socket(sock: NlSocket) -> Result<Self> {
        let mut client = Client {
            sock,
            family: 0,
            seq: 0,
            buf: vec![0; RECV_BUF],
        };
        client.family = client.resolve_family()?;
        Ok(client)
    }

    /// Bounds how long any request waits for the kernel; `None` waits
    /// forever (the default). A request that times out fails with an error
    /// whose [`Error::is_timeout`] is true.
    pub fn set_receive_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        let t = timeout.unwrap_or_default();
        let tv = libc::timeval {
            tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_usec: libc::suseconds_t::from(t.subsec_micros()),
        };
        // SAFETY: `tv` is a valid timeval that outlives the call, and the
        // length passed is its size; the descriptor is this client's socket.
        let r = unsafe {
            libc::setsockopt(
                self.sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::from_ref(&tv).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(Error::Io {
                op: Op::Connect,
                source: io::Error::last_os_error(),
            })
        }
    }

    /// The kernel's IPVS version and connection table size.
    pub fn info(&mut self) -> Result<Info> {
        let op = Op::GetInfo;
        let mut info = None;
        self.request(op, ids::cmd::GET_INFO, false, &Attrs::default(), |top| {
            info.get_or_insert(codec::read_info(top));
        })?;
        info.unwrap_or_else(|| Err("no answer".into()))
            .map_err(|what| Error::Malformed { op, what })
    }

    /// Every service, in the kernel's order.
    pub fn services(&mut self) -> Result<Vec<Service>> {
        let op = Op::ListServices;
        let mut out = Vec::new();
        self.request(op, ids::cmd::GET_SERVICE, true, &Attrs::default(), |top| {
            out.push(codec::read_service(top));
        })?;
        out.into_iter()
            .map(|r| r.map_err(|what| Error::Malformed { op, what }))
            .collect()
    }

    /// One service; an absent one fails with [`Error::is_not_found`] true.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let op = Op::GetService;
        let attrs = Attrs::default().nested(ids::attr::SERVICE, codec::service_key(key));
        let mut found = None;
        // The kernel's refusal (ESRCH for a service it does not have) names the service too.
        self.request_about(
            op,
            Object::Service(*key),
            ids::cmd::GET_SERVICE,
            false,
            &attrs,
            |top| {
                found.get_or_insert(codec::read_service(top));
            },
        )?;
        match found {
            Some(r) => r.map_err(|what| Error::Malformed { op, what }),
            None => Err(Error::Kernel {
                op,
                object: Object::Service(*key),
                errno: libc::ESRCH,
            }),
        }
    }

    /// A service's destinations, in the kernel's order.
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>> {
        let op = Op::ListDestinations;
        let attrs = Attrs::default().nested(ids::attr::SERVICE, codec::service_key(key));
        let family = key.family();
        let mut out = Vec::new();
        self.request_about(
            op,
            Object::Service(*key),
            ids::cmd::GET_DEST,
            true,
            &attrs,
            |top| out.push(codec::read_destination(top, family)),
        )?;
        out.into_iter()
            .map(|r| r.map_err(|what| Error::Malformed { op, what }))
            .collect()
    }

    /// The connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let mut t = Timeouts::default();
        self.request(
            Op::GetTimeouts,
            ids::cmd::GET_CONFIG,
            false,
            &Attrs::default(),
            |top| t = codec::read_timeouts(top),
        )?;
        Ok(t)
    }

    /// The running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        let op = Op::ListDaemons;
        let mut out = Vec::new();
        self.request(op, ids::cmd::GET_DAEMON, true, &Attrs::default(), |top| {
            out.push(codec::read_daemon(top));
        })?;
        out.into_iter()
            .map(|r| r.map_err(|what| Error::Malformed { op, what }))
            .collect()
    }

    /// Carries out one change.
    ///
    /// ```no_run
    /// use ipvs::{Change, Destination, Forward, Service, ServiceKey};
    /// let mut ipvs = ipvs::Client::connect()?;
    /// let key = ServiceKey::udp("10.0.0.1:5060".parse().unwrap());
    /// let mut service = Service::new(key);
    /// service.scheduler = "rr".into();
    /// service.pe_name = Some("sip".into());
    /// ipvs.apply(&Change::AddService(service))?;
    /// let mut server = Destination::new("192.168.0.1:5060".parse().unwrap());
    /// server.forward = Forward::Masq;
    /// match ipvs.apply(&Change::AddDestination(key, server)) {
    ///     Err(e) if e.is_exists() => {} // already there
    ///     other => other?,
    /// }
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn apply(&mut self, change: &Change) -> Result<()> {
        let (command, attrs) = codec::change(change);
        self.request_about(change.op(), change.object(), command, false, &attrs, |_| {})
    }

    /// Carries out changes in order, each with its own result, sending them
    /// in datagrams of up to 64 changes: a failed change does not stop the
    /// ones after it.
    pub fn apply_all(&mut self, changes: &[Change]) -> Vec<Result<()>> {
        let mut out = Vec::with_capacity(changes.len());
        for chunk in changes.chunks(BATCH) {
            match self.send_batch(chunk) {
                Ok(results) => out.extend(results),
                // The socket itself failed: no result can be trusted, so the
                // failure stands for every change of the chunk.
                Err(e) => {
                    let kind = match &e {
                        Error::Io { source, .. } => source.raw_os_error(),
                        _ => None,
                    };
                    out.extend(chunk.iter().map(|c| {
                        Err(match kind {
                            Some(code) => Error::Io {
                                op: c.op(),
                                source: io::Error::from_raw_os_error(code),
                            },
                            None => Error::Malformed {
                                op: c.op(),
                                what: e.to_string(),
                            },
                        })
                    }));
                }
            }
        }
        out
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Builds one IPVS message with the next sequence number.
    fn message(
        &mut self,
        command: u8,
        flags: NlmF,
        attrs: &Attrs,
    ) -> std::result::Result<(u32, Nlmsghdr<u16, Msg16>), String> {
        let genl: Msg16 = GenlmsghdrBuilder::default()
            .cmd(command)
            .version(ids::VERSION)
            .attrs(attrs.build()?)
            .build()
            .map_err(|e| e.to_string())?;
        let family = self.family;
        self.wrap(family, flags, genl)
    }

    /// Puts a payload in a netlink message with the next sequence number.
    fn wrap<T: NlType, P: Size>(
        &mut self,
        ty: T,
        flags: NlmF,
        payload: P,
    ) -> std::result::Result<(u32, Nlmsghdr<T, P>), String> {
        let seq = self.next_seq();
        let msg = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(flags)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(payload))
            .build()
            .map_err(|e| e.to_string())?;
        Ok((seq, msg))
    }

    fn send_bytes<M: ToBytes>(&self, op: Op, msg: &M) -> Result<()> {
        let mut bytes = Cursor::new(Vec::new());
        msg.to_bytes(&mut bytes).map_err(|e| Error::Malformed {
            op,
            what: format!("cannot encode: {e}"),
        })?;
        self.sock
            .send(bytes.get_ref(), Msg::empty())
            .map_err(|source| Error::Io { op, source })?;
        Ok(())
    }

    fn resolve_family(&mut self) -> Result<u16> {
        let op = Op::Connect;
        let bad = |what: String| Error::Malformed { op, what };
        let name = NlattrBuilder::default()
            .nla_type(neli::genl::AttrType::from(u16::from(CtrlAttr::FamilyName)))
            .nla_payload(ids::FAMILY)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let genl = GenlmsghdrBuilder::default()
            .cmd(CtrlCmd::Getfamily)
            .version(2)
            .attrs(std::iter::once(name).collect::<GenlBuffer<CtrlAttr, _>>())
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let (seq, msg) = self
            .wrap(GenlId::Ctrl, NlmF::REQUEST | NlmF::ACK, genl)
            .map_err(bad)?;
        self.send_bytes(op, &msg)?;
        let mut family = None;
        let answer = self.receive::<GenlId, Genlmsghdr<CtrlCmd, CtrlAttr>>(
            op,
            &Object::Table,
            seq,
            false,
            |p| {
                let h = p.attrs().get_attr_handle();
                if let Ok(id) = h.get_attr_payload_as::<u16>(CtrlAttr::FamilyId) {
                    family = Some(id);
                }
            },
        );
        match answer {
            Ok(()) => family.ok_or(Error::NoFamily),
            Err(Error::Kernel {
                errno: libc::ENOENT,
                ..
            }) => Err(Error::NoFamily),
            Err(e) => Err(e),
        }
    }

    /// Sends one request about the whole table; see [`Client::request_about`].
    fn request(
        &mut self,
        op: Op,
        command: u8,
        dump: bool,
        attrs: &Attrs,
        each: impl FnMut(&Reader<'_>),
    ) -> Result<()> {
        self.request_about(op, Object::Table, command, dump, attrs, each)
    }

    /// Sends one request and hands the attributes of every answer to
    /// `each`: the reply of a `doit` command, or every message of a dump.
    fn request_about(
        &mut self,
        op: Op,
        object: Object,
        command: u8,
        dump: bool,
        attrs: &Attrs,
        mut each: impl FnMut(&Reader<'_>),
    ) -> Result<()> {
        let flags = if dump {
            NlmF::REQUEST | NlmF::ACK | NlmF::DUMP
        } else {
            NlmF::REQUEST | NlmF::ACK
        };
        let (seq, msg) = self
            .message(command, flags, attrs)
            .map_err(|what| Error::Malformed { op, what })?;
        self.send_bytes(op, &msg)?;
        self.receive::<u16, Msg16>(op, &object, seq, dump, |p| {
            each(&Reader::new(p.attrs().get_attr_handle()));
        })
    }

    /// Reads one datagram and decodes every message in it.
    fn recv_datagram<T, P>(&mut self, op: Op) -> Result<NlBuffer<T, P>>
    where
        T: NlType,
        P: Size + FromBytesWithInput<Input = usize>,
    {
        let (n, _) = self
            .sock
            .recv(&mut self.buf[..], Msg::empty())
            .map_err(|source| Error::Io { op, source })?;
        if n == 0 {
            return Err(Error::Malformed {
                op,
                what: "empty datagram".into(),
            });
        }
        let bytes = self.buf.get(..n).unwrap_or(&self.buf[..]);
        codec::check_framing(bytes).map_err(|what| Error::Malformed { op, what })?;
        NlBuffer::from_bytes_with_input(&mut Cursor::new(bytes), bytes.len()).map_err(|e| {
            Error::Malformed {
                op,
                what: e.to_string(),
            }
        })
    }

    /// Reads the answers to request `seq`, handing each payload to `each`,
    /// up to its end: the acknowledgement, an error, or the end of a dump.
    fn receive<T, P>(
        &mut self,
        op: Op,
        object: &Object,
        seq: u32,
        dump: bool,
        mut each: impl FnMut(&P),
    ) -> Result<()>
    where
        T: NlType,
        P: Size + FromBytesWithInput<Input = usize>,
    {
        loop {
            for m in self.recv_datagram::<T, P>(op)? {
                if *m.nl_seq() != seq {
                    continue;
                }
                match m.nl_payload() {
                    NlPayload::Payload(p) => each(p),
                    NlPayload::Ack(_) => return Ok(()),
                    NlPayload::Err(e) => return Err(kernel_error(op, object, *e.error())),
                    NlPayload::DumpExtAck(e) if *e.error() != 0 => {
                        return Err(kernel_error(op, object, *e.error()))
                    }
                    NlPayload::DumpExtAck(_) => return Ok(()),
                    NlPayload::Empty if dump => return Ok(()),
                    NlPayload::Empty => {}
                }
            }
        }
    }

    /// Sends changes in one datagram and collects each one's acknowledgement.
    fn send_batch(&mut self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        let mut batch = NlBuffer::new();
        let mut pending = Vec::with_capacity(changes.len());
        for c in changes {
            let (command, attrs) = codec::change(c);
            let (seq, msg) = self
                .message(command, NlmF::REQUEST | NlmF::ACK, &attrs)
                .map_err(|what| Error::Malformed { op: c.op(), what })?;
            batch.push(msg);
            pending.push((seq, c, None));
        }
        let first_op = changes.first().map_or(Op::Flush, Change::op);
        self.send_bytes(first_op, &batch)?;
        let mut left = pending.len();
        while left > 0 {
            for m in self.recv_datagram::<u16, Msg16>(first_op)? {
                let Some(slot) = pending.iter_mut().find(|p| p.0 == *m.nl_seq()) else {
                    continue;
                };
                let result = match m.nl_payload() {
                    NlPayload::Ack(_) => Ok(()),
                    NlPayload::Err(e) => {
                        Err(kernel_error(slot.1.op(), &slot.1.object(), *e.error()))
                    }
                    _ => continue,
                };
                if slot.2.is_none() {
                    left -= 1;
                }
                slot.2 = Some(result);
            }
        }
        Ok(pending
            .into_iter()
            .map(|(_, c, r)| {
                r.unwrap_or_else(|| {
                    Err(Error::Malformed {
                        op: c.op(),
                        what: "no acknowledgement".into(),
                    })
                })
            })
            .collect())
    }
}

/// The error a netlink error message reports (the kernel sends `-errno`).
fn kernel_error(op: Op, object: &Object, code: libc::c_int) -> Error {
    Error::Kernel {
        op,
        object: object.clone(),
        errno: code.wrapping_neg(),
    }
}
