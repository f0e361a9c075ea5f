//! Generic netlink client for the kernel's `IPVS` family.
//!
//! One socket is opened and the family resolved once; every request reuses
//! them, which is what makes `-R` fast on large rule sets.

use std::fmt;
use std::io;
use std::net::IpAddr;

use neli::{
    consts::{
        genl::{CtrlAttr, CtrlCmd},
        nl::{GenlId, NlType, NlmF},
        socket::NlFamily,
    },
    genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder},
    nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder},
    socket::synchronous::NlSocketHandle,
    types::{Buffer, GenlBuffer},
    utils::Groups,
    FromBytesWithInput, Size, ToBytes,
};
use nix::errno::Errno;
use nix::sys::socket::MsgFlags;
use std::os::fd::AsRawFd;

use crate::types::*;

/// The IPVS generic netlink family name and protocol version.
const FAMILY: &str = "IPVS";
const GENL_VERSION: u8 = 1;

/// `IPVS_CMD_*`.
mod cmd {
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
}

/// `IPVS_CMD_ATTR_*`.
mod attr {
    pub const SERVICE: u16 = 1;
    pub const DEST: u16 = 2;
    pub const DAEMON: u16 = 3;
    pub const TIMEOUT_TCP: u16 = 4;
    pub const TIMEOUT_TCP_FIN: u16 = 5;
    pub const TIMEOUT_UDP: u16 = 6;
}

/// `IPVS_SVC_ATTR_*`.
mod svc {
    pub const AF: u16 = 1;
    pub const PROTOCOL: u16 = 2;
    pub const ADDR: u16 = 3;
    pub const PORT: u16 = 4;
    pub const FWMARK: u16 = 5;
    pub const SCHED_NAME: u16 = 6;
    pub const FLAGS: u16 = 7;
    pub const TIMEOUT: u16 = 8;
    pub const NETMASK: u16 = 9;
    pub const STATS: u16 = 10;
    pub const PE_NAME: u16 = 11;
    pub const STATS64: u16 = 12;
}

/// `IPVS_DEST_ATTR_*`.
mod dest {
    pub const ADDR: u16 = 1;
    pub const PORT: u16 = 2;
    pub const FWD_METHOD: u16 = 3;
    pub const WEIGHT: u16 = 4;
    pub const U_THRESH: u16 = 5;
    pub const L_THRESH: u16 = 6;
    pub const ACTIVE_CONNS: u16 = 7;
    pub const INACT_CONNS: u16 = 8;
    pub const PERSIST_CONNS: u16 = 9;
    pub const STATS: u16 = 10;
    pub const ADDR_FAMILY: u16 = 11;
    pub const STATS64: u16 = 12;
    pub const TUN_TYPE: u16 = 13;
    pub const TUN_PORT: u16 = 14;
    pub const TUN_FLAGS: u16 = 15;
}

/// `IPVS_DAEMON_ATTR_*`.
mod daemon {
    pub const STATE: u16 = 1;
    pub const MCAST_IFN: u16 = 2;
    pub const SYNC_ID: u16 = 3;
    pub const SYNC_MAXLEN: u16 = 4;
    pub const MCAST_GROUP: u16 = 5;
    pub const MCAST_GROUP6: u16 = 6;
    pub const MCAST_PORT: u16 = 7;
    pub const MCAST_TTL: u16 = 8;
}

/// `IPVS_STATS_ATTR_*`.
mod stats {
    pub const CONNS: u16 = 1;
    pub const INPKTS: u16 = 2;
    pub const OUTPKTS: u16 = 3;
    pub const INBYTES: u16 = 4;
    pub const OUTBYTES: u16 = 5;
    pub const CPS: u16 = 6;
    pub const INPPS: u16 = 7;
    pub const OUTPPS: u16 = 8;
    pub const INBPS: u16 = 9;
    pub const OUTBPS: u16 = 10;
}

/// `IPVS_INFO_ATTR_*`.
mod info {
    pub const VERSION: u16 = 1;
    pub const CONN_TAB_SIZE: u16 = 2;
}

/// The operation a request performed, so errors can be worded for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Init,
    AddService,
    EditService,
    DelService,
    Zero,
    Flush,
    AddDest,
    EditDest,
    DelDest,
    SetTimeout,
    StartDaemon,
    StopDaemon,
    GetServices,
    GetService,
    GetDests,
    GetTimeout,
    GetDaemon,
}

/// Why a request failed.
#[derive(Debug)]
pub enum Error {
    /// The kernel answered with an error code.
    Kernel { op: Op, errno: Errno },
    /// The `IPVS` generic netlink family does not exist (no IPVS in the kernel).
    NoFamily,
    /// The socket itself failed.
    Io { op: Op, err: io::Error },
    /// The kernel's answer could not be understood.
    Protocol { op: Op, what: String },
}

impl Error {
    /// The errno this error stands for, as ipvsadm's `errno` would be.
    pub fn errno(&self) -> Errno {
        match self {
            Error::Kernel { errno, .. } => *errno,
            Error::NoFamily => Errno::ENOPROTOOPT,
            Error::Io { err, .. } => err.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
            Error::Protocol { .. } => Errno::EINVAL,
        }
    }

    fn op(&self) -> Op {
        match self {
            Error::Kernel { op, .. } | Error::Io { op, .. } | Error::Protocol { op, .. } => *op,
            Error::NoFamily => Op::Init,
        }
    }
}

/// Words an error code for the operation, with ipvsadm's own wording where it
/// has one, else the C library's.
pub fn describe(op: Op, errno: Errno) -> String {
    use Errno::*;
    let specific = match (op, errno) {
        (Op::AddService, EEXIST) => Some("Service already exists"),
        (Op::AddService | Op::EditService, ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (
            Op::EditService
            | Op::DelService
            | Op::Zero
            | Op::GetServices
            | Op::GetDests
            | Op::GetService,
            ESRCH,
        ) => Some("No such service"),
        (Op::AddDest | Op::EditDest | Op::DelDest, ESRCH) => Some("Service not defined"),
        (Op::AddDest, EEXIST) => Some("Destination already exists"),
        (Op::EditDest | Op::DelDest, ENOENT) => Some("No such destination"),
        (Op::StartDaemon, EEXIST) => Some("Daemon has already run"),
        (Op::StopDaemon, ESRCH) => Some("No daemon is running"),
        (_, EPERM) => Some("Permission denied (you must be root)"),
        (_, EINVAL) => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        (_, ENOPROTOOPT) => Some("Protocol not available"),
        (_, ENOMEM) => Some("Memory allocation problem"),
        (_, EOPNOTSUPP) => Some("Operation not supported with IPv6"),
        (_, EAFNOSUPPORT) => Some("Operation not supported with specified address family"),
        (_, EMSGSIZE) => Some("Module is wrong version"),
        _ => None,
    };
    match specific {
        Some(s) => s.to_string(),
        None => errno.desc().to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol { what, .. } => write!(f, "unexpected answer from the kernel: {what}"),
            _ => f.write_str(&describe(self.op(), self.errno())),
        }
    }
}

impl std::error::Error for Error {}

/// The typed operations ipvsadm performs; implemented over netlink by
/// [`IpvsClient`] and by in-memory fakes in tests.
pub trait Ipvs {
    fn info(&mut self) -> Result<Info, Error>;
    fn services(&mut self) -> Result<Vec<ServiceEntry>, Error>;
    fn service(&mut self, key: &ServiceConfig) -> Result<ServiceEntry, Error>;
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error>;
    fn add_service(&mut self, s: &ServiceConfig) -> Result<(), Error>;
    fn edit_service(&mut self, s: &ServiceConfig) -> Result<(), Error>;
    fn del_service(&mut self, s: &ServiceConfig) -> Result<(), Error>;
    /// Zeroes one service's counters, or all of them for `None`.
    fn zero(&mut self, s: Option<&ServiceConfig>) -> Result<(), Error>;
    fn flush(&mut self) -> Result<(), Error>;
    fn add_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error>;
    fn edit_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error>;
    fn del_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error>;
    fn timeouts(&mut self) -> Result<Timeouts, Error>;
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error>;
    fn daemons(&mut self) -> Result<Vec<DaemonConfig>, Error>;
    fn start_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error>;
    fn stop_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error>;

    /// Carries out one change.
    fn apply(&mut self, c: &Change) -> Result<(), Error> {
        match c {
            Change::AddService(s) => self.add_service(s),
            Change::EditService(s) => self.edit_service(s),
            Change::DelService(s) => self.del_service(s),
            Change::Zero(s) => self.zero(s.as_ref()),
            Change::Flush => self.flush(),
            Change::AddDest(s, d) => self.add_dest(s, d),
            Change::EditDest(s, d) => self.edit_dest(s, d),
            Change::DelDest(s, d) => self.del_dest(s, d),
            Change::SetTimeouts(t) => self.set_timeouts(t),
            Change::StartDaemon(d) => self.start_daemon(d),
            Change::StopDaemon(d) => self.stop_daemon(d),
        }
    }

    /// Carries out changes in order, each with its own result; an
    /// implementation may send them together.
    fn apply_all(&mut self, cs: &[Change]) -> Vec<Result<(), Error>> {
        cs.iter().map(|c| self.apply(c)).collect()
    }
}

/// A change to the IPVS table or configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    AddService(ServiceConfig),
    EditService(ServiceConfig),
    DelService(ServiceConfig),
    /// Zero one service's counters, or all of them.
    Zero(Option<ServiceConfig>),
    Flush,
    AddDest(ServiceConfig, DestConfig),
    EditDest(ServiceConfig, DestConfig),
    DelDest(ServiceConfig, DestConfig),
    SetTimeouts(Timeouts),
    StartDaemon(DaemonConfig),
    StopDaemon(DaemonConfig),
}

impl Change {
    /// The operation, netlink command and attributes of the request.
    fn request(&self) -> (Op, u8, Attrs) {
        let svc = |s: &ServiceConfig| Attrs::default().nested(attr::SERVICE, service_attrs(s));
        let with_dest =
            |s: &ServiceConfig, d: &DestConfig| svc(s).nested(attr::DEST, dest_attrs(d));
        match self {
            Change::AddService(s) => (Op::AddService, cmd::NEW_SERVICE, svc(s)),
            Change::EditService(s) => (Op::EditService, cmd::SET_SERVICE, svc(s)),
            Change::DelService(s) => (Op::DelService, cmd::DEL_SERVICE, svc(s)),
            Change::Zero(Some(s)) => (Op::Zero, cmd::ZERO, svc(s)),
            Change::Zero(None) => (Op::Zero, cmd::ZERO, Attrs::default()),
            Change::Flush => (Op::Flush, cmd::FLUSH, Attrs::default()),
            Change::AddDest(s, d) => (Op::AddDest, cmd::NEW_DEST, with_dest(s, d)),
            Change::EditDest(s, d) => (Op::EditDest, cmd::SET_DEST, with_dest(s, d)),
            Change::DelDest(s, d) => (Op::DelDest, cmd::DEL_DEST, with_dest(s, d)),
            Change::SetTimeouts(t) => (
                Op::SetTimeout,
                cmd::SET_CONFIG,
                Attrs::default()
                    .u32(attr::TIMEOUT_TCP, t.tcp)
                    .u32(attr::TIMEOUT_TCP_FIN, t.tcp_fin)
                    .u32(attr::TIMEOUT_UDP, t.udp),
            ),
            Change::StartDaemon(d) => {
                let mut inner = daemon_key_attrs(d);
                if d.sync_maxlen != 0 {
                    inner = inner.u16(daemon::SYNC_MAXLEN, d.sync_maxlen);
                }
                if d.mcast_port != 0 {
                    inner = inner.u16(daemon::MCAST_PORT, d.mcast_port);
                }
                if d.mcast_ttl != 0 {
                    inner = inner.u8(daemon::MCAST_TTL, d.mcast_ttl);
                }
                match d.mcast_group {
                    Some(IpAddr::V6(g)) => inner = inner.bytes(daemon::MCAST_GROUP6, &g.octets()),
                    Some(IpAddr::V4(g)) => inner = inner.bytes(daemon::MCAST_GROUP, &g.octets()),
                    None => {}
                }
                (
                    Op::StartDaemon,
                    cmd::NEW_DAEMON,
                    Attrs::default().nested(attr::DAEMON, inner),
                )
            }
            Change::StopDaemon(d) => (
                Op::StopDaemon,
                cmd::DEL_DAEMON,
                Attrs::default().nested(attr::DAEMON, daemon_key_attrs(d)),
            ),
        }
    }
}

/// The attributes that name a sync daemon, first in starting and stopping.
fn daemon_key_attrs(d: &DaemonConfig) -> Attrs {
    Attrs::default()
        .u32(daemon::STATE, d.state)
        .c_string(daemon::MCAST_IFN, &d.mcast_ifn)
        .u32(daemon::SYNC_ID, d.syncid)
}

/// Changes sent in one `sendmsg`: the kernel handles every message of a
/// datagram in turn and acknowledges each, so a restore costs one round trip
/// per batch instead of one per rule. Sized so the acknowledgements (which
/// echo failed requests) fit the default receive buffer.
const BATCH: usize = 64;

type Msg = Genlmsghdr<u8, u16>;
type Attr = Nlattr<u16, Buffer>;

/// A connected IPVS generic netlink client.
pub struct IpvsClient {
    sock: NlSocketHandle,
    family: u16,
    seq: u32,
}

fn build_attr<T, P>(ty: T, payload: P) -> Result<Nlattr<T, Buffer>, String>
where
    T: Size,
    P: Size + ToBytes,
{
    NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(ty)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .nla_payload(payload)
        .build()
        .map_err(|e| e.to_string())
}

fn build_nested(ty: u16, children: &[Attr]) -> Result<Attr, String> {
    let mut a = build_attr(ty, Buffer::from(Vec::new()))?;
    for c in children {
        a = a.nest(c).map_err(|e| e.to_string())?;
    }
    Ok(a)
}

/// Attributes of one request, built before sending.
#[derive(Default)]
struct Attrs(Vec<(u16, AttrValue)>);

enum AttrValue {
    Raw(Vec<u8>),
    Nested(Attrs),
}

impl Attrs {
    fn raw(mut self, ty: u16, v: Vec<u8>) -> Self {
        self.0.push((ty, AttrValue::Raw(v)));
        self
    }
    fn u8(self, ty: u16, v: u8) -> Self {
        self.raw(ty, vec![v])
    }
    fn u16(self, ty: u16, v: u16) -> Self {
        self.raw(ty, v.to_ne_bytes().to_vec())
    }
    fn u32(self, ty: u16, v: u32) -> Self {
        self.raw(ty, v.to_ne_bytes().to_vec())
    }
    fn bytes(self, ty: u16, v: &[u8]) -> Self {
        self.raw(ty, v.to_vec())
    }
    /// A NUL-terminated string, as `NLA_NUL_STRING` policies require.
    fn c_string(self, ty: u16, s: &[u8]) -> Self {
        let mut v = s.to_vec();
        v.push(0);
        self.raw(ty, v)
    }
    fn string(self, ty: u16, s: &str) -> Self {
        self.c_string(ty, s.as_bytes())
    }
    fn nested(mut self, ty: u16, inner: Attrs) -> Self {
        self.0.push((ty, AttrValue::Nested(inner)));
        self
    }

    fn build(&self) -> Result<Vec<Attr>, String> {
        self.0
            .iter()
            .map(|(ty, v)| match v {
                AttrValue::Raw(b) => build_attr(*ty, Buffer::from(b.clone())),
                AttrValue::Nested(inner) => build_nested(*ty, &inner.build()?),
            })
            .collect()
    }
}

/// The service attributes ipvsadm sends with every service-related request.
fn service_attrs(s: &ServiceConfig) -> Attrs {
    let mut a = service_key_attrs(&s.key).string(svc::SCHED_NAME, &s.sched_name);
    if let Some(pe) = s.pe_name.as_deref().filter(|p| !p.is_empty()) {
        a = a.string(svc::PE_NAME, pe);
    }
    let mut flags = Vec::with_capacity(8);
    flags.extend_from_slice(&s.flags.to_ne_bytes());
    flags.extend_from_slice(&u32::MAX.to_ne_bytes());
    a.bytes(svc::FLAGS, &flags)
        .u32(svc::TIMEOUT, s.timeout)
        .u32(svc::NETMASK, s.netmask)
}

/// The identifying service attributes: alone for destination dumps, first
/// in every other service request.
fn service_key_attrs(k: &ServiceKey) -> Attrs {
    let a = Attrs::default().u16(svc::AF, k.af);
    if k.fwmark != 0 {
        a.u32(svc::FWMARK, k.fwmark)
    } else {
        a.u16(svc::PROTOCOL, k.protocol)
            .bytes(svc::ADDR, &addr_to_union(&k.addr))
            .u16(svc::PORT, k.port.to_be())
    }
}

fn dest_attrs(d: &DestConfig) -> Attrs {
    Attrs::default()
        .u16(dest::ADDR_FAMILY, d.af)
        .bytes(dest::ADDR, &addr_to_union(&d.addr))
        .u16(dest::PORT, d.port.to_be())
        .u32(dest::FWD_METHOD, d.fwd & fwd::MASK)
        .u32(dest::WEIGHT, d.weight)
        .u8(dest::TUN_TYPE, d.tun_type)
        .u16(dest::TUN_PORT, d.tun_port.to_be())
        .u16(dest::TUN_FLAGS, d.tun_flags)
        .u32(dest::U_THRESH, d.u_threshold)
        .u32(dest::L_THRESH, d.l_threshold)
}

/// Decoded attributes of one level: type to raw payload.
struct Parsed<'a>(Vec<(u16, &'a [u8])>);

impl<'a> Parsed<'a> {
    fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.0.iter().find(|(t, _)| *t == ty).map(|(_, p)| *p)
    }

    /// The first `N` bytes of an attribute, if it has that many.
    fn array<const N: usize>(&self, ty: u16) -> Option<[u8; N]> {
        self.get(ty)?.get(..N)?.try_into().ok()
    }
    fn u8(&self, ty: u16) -> Option<u8> {
        self.array(ty).map(u8::from_ne_bytes)
    }
    fn u16(&self, ty: u16) -> Option<u16> {
        self.array(ty).map(u16::from_ne_bytes)
    }
    fn u32(&self, ty: u16) -> Option<u32> {
        self.array(ty).map(u32::from_ne_bytes)
    }
    /// A counter that may be 32 or 64 bits wide.
    fn counter(&self, ty: u16) -> Option<u64> {
        match self.get(ty)?.len() {
            4 => self.u32(ty).map(u64::from),
            n if n >= 8 => self.array(ty).map(u64::from_ne_bytes),
            _ => None,
        }
    }
    /// A string attribute up to its NUL, as bytes.
    fn c_string(&self, ty: u16) -> Option<&'a [u8]> {
        let p = self.get(ty)?;
        Some(p.split(|&b| b == 0).next().unwrap_or(p))
    }
    fn string(&self, ty: u16) -> Option<String> {
        self.c_string(ty)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Walks the attributes nested in a payload (4-byte aligned TLVs).
fn parse_nested(payload: &[u8]) -> Parsed<'_> {
    let mut out = Vec::new();
    let mut rest = payload;
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            break;
        }
        out.push((ty, &rest[4..len]));
        let adv = (len + 3) & !3;
        rest = rest.get(adv..).unwrap_or(&[]);
    }
    Parsed(out)
}

/// Words a reply that lacks what a request needs from it.
fn malformed(op: Op) -> impl Fn(&str) -> Error {
    move |what| Error::Protocol {
        op,
        what: what.to_string(),
    }
}

fn parse_stats(p: &[u8]) -> Stats {
    let s = parse_nested(p);
    let g = |t| s.counter(t).unwrap_or(0);
    Stats {
        conns: g(stats::CONNS),
        inpkts: g(stats::INPKTS),
        outpkts: g(stats::OUTPKTS),
        inbytes: g(stats::INBYTES),
        outbytes: g(stats::OUTBYTES),
        cps: g(stats::CPS),
        inpps: g(stats::INPPS),
        outpps: g(stats::OUTPPS),
        inbps: g(stats::INBPS),
        outbps: g(stats::OUTBPS),
    }
}

fn parse_service(op: Op, top: &Parsed<'_>) -> Result<ServiceEntry, Error> {
    let bad = malformed(op);
    let s = parse_nested(top.get(attr::SERVICE).ok_or_else(|| bad("no service"))?);
    let af = s
        .u16(svc::AF)
        .ok_or_else(|| bad("service without family"))?;
    let fwmark = s.u32(svc::FWMARK).unwrap_or(0);
    let (protocol, addr, port) = if s.get(svc::FWMARK).is_some() {
        (0, addr_from_union(af, &[]), 0)
    } else {
        (
            s.u16(svc::PROTOCOL)
                .ok_or_else(|| bad("service without protocol"))?,
            addr_from_union(
                af,
                s.get(svc::ADDR)
                    .ok_or_else(|| bad("service without address"))?,
            ),
            u16::from_be(
                s.u16(svc::PORT)
                    .ok_or_else(|| bad("service without port"))?,
            ),
        )
    };
    s.get(svc::FLAGS)
        .ok_or_else(|| bad("service without flags"))?;
    let [f0, f1, f2, f3, m0, m1, m2, m3] = s
        .array(svc::FLAGS)
        .ok_or_else(|| bad("short service flags"))?;
    let flags = u32::from_ne_bytes([f0, f1, f2, f3]) & u32::from_ne_bytes([m0, m1, m2, m3]);
    let stats = s
        .get(svc::STATS64)
        .or_else(|| s.get(svc::STATS))
        .map(parse_stats)
        .unwrap_or_default();
    Ok(ServiceEntry {
        key: ServiceKey {
            af,
            protocol,
            addr,
            port,
            fwmark,
        },
        sched_name: s
            .string(svc::SCHED_NAME)
            .ok_or_else(|| bad("service without scheduler"))?,
        pe_name: s.string(svc::PE_NAME),
        flags,
        timeout: s
            .u32(svc::TIMEOUT)
            .ok_or_else(|| bad("service without timeout"))?,
        netmask: s
            .u32(svc::NETMASK)
            .ok_or_else(|| bad("service without netmask"))?,
        stats,
    })
}

fn parse_dest(top: &Parsed<'_>, svc_af: u16) -> Result<DestEntry, Error> {
    let bad = malformed(Op::GetDests);
    let d = parse_nested(top.get(attr::DEST).ok_or_else(|| bad("no destination"))?);
    let need = |t: u16| d.u32(t).ok_or_else(|| bad("incomplete destination"));
    let af = d.u16(dest::ADDR_FAMILY).unwrap_or(svc_af);
    Ok(DestEntry {
        af,
        addr: addr_from_union(af, d.get(dest::ADDR).ok_or_else(|| bad("no address"))?),
        port: u16::from_be(d.u16(dest::PORT).ok_or_else(|| bad("no port"))?),
        fwd: need(dest::FWD_METHOD)?,
        weight: need(dest::WEIGHT)?,
        u_threshold: need(dest::U_THRESH)?,
        l_threshold: need(dest::L_THRESH)?,
        active_conns: need(dest::ACTIVE_CONNS)?,
        inact_conns: need(dest::INACT_CONNS)?,
        persist_conns: need(dest::PERSIST_CONNS)?,
        tun_type: d.u8(dest::TUN_TYPE).unwrap_or(0),
        tun_port: u16::from_be(d.u16(dest::TUN_PORT).unwrap_or(0)),
        tun_flags: d.u16(dest::TUN_FLAGS).unwrap_or(0),
        stats: d
            .get(dest::STATS64)
            .or_else(|| d.get(dest::STATS))
            .map(parse_stats)
            .unwrap_or_default(),
    })
}

fn parse_daemon(top: &Parsed<'_>) -> Result<DaemonConfig, Error> {
    let bad = malformed(Op::GetDaemon);
    let d = parse_nested(top.get(attr::DAEMON).ok_or_else(|| bad("no daemon"))?);
    let mcast_group = if d.get(daemon::MCAST_GROUP).is_some() {
        let g: [u8; 4] = d.array(daemon::MCAST_GROUP).ok_or_else(|| bad("group"))?;
        Some(IpAddr::from(g))
    } else if d.get(daemon::MCAST_GROUP6).is_some() {
        let g: [u8; 16] = d.array(daemon::MCAST_GROUP6).ok_or_else(|| bad("group"))?;
        Some(IpAddr::from(g))
    } else {
        None
    };
    Ok(DaemonConfig {
        state: d.u32(daemon::STATE).ok_or_else(|| bad("no state"))?,
        mcast_ifn: d
            .c_string(daemon::MCAST_IFN)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| bad("no interface"))?,
        syncid: d.u32(daemon::SYNC_ID).ok_or_else(|| bad("no syncid"))?,
        sync_maxlen: d.u16(daemon::SYNC_MAXLEN).unwrap_or(0),
        mcast_group,
        mcast_port: d.u16(daemon::MCAST_PORT).unwrap_or(0),
        mcast_ttl: d.u8(daemon::MCAST_TTL).unwrap_or(0),
    })
}

impl IpvsClient {
    /// Opens a generic netlink socket and resolves the `IPVS` family.
    pub fn connect() -> Result<Self, Error> {
        let sock =
            NlSocketHandle::connect(NlFamily::Generic, Some(0), Groups::empty()).map_err(|e| {
                Error::Io {
                    op: Op::Init,
                    err: match e {
                        neli::err::SocketError::Io(err) => {
                            io::Error::new(err.kind(), err.to_string())
                        }
                        other => io::Error::other(other.to_string()),
                    },
                }
            })?;
        let mut client = IpvsClient {
            sock,
            family: 0,
            seq: 0,
        };
        client.family = client.resolve_family()?;
        Ok(client)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let op = Op::Init;
        let proto = |what: String| Error::Protocol { op, what };
        let attrs = [build_attr(CtrlAttr::FamilyName, FAMILY).map_err(proto)?]
            .into_iter()
            .collect::<GenlBuffer<CtrlAttr, Buffer>>();
        let genl = GenlmsghdrBuilder::default()
            .cmd(CtrlCmd::Getfamily)
            .version(2)
            .attrs(attrs)
            .build()
            .map_err(|e| proto(e.to_string()))?;
        let (seq, msg) = self
            .wrap(GenlId::Ctrl, NlmF::REQUEST | NlmF::ACK, genl)
            .map_err(proto)?;
        self.sock.send(&msg).map_err(|e| sock_err(op, e))?;
        let mut family = None;
        let answer = self.receive::<GenlId, Genlmsghdr<CtrlCmd, CtrlAttr>>(op, seq, false, |p| {
            let h = p.attrs().get_attr_handle();
            if let Ok(id) = h.get_attr_payload_as::<u16>(CtrlAttr::FamilyId) {
                family = Some(id);
            }
        });
        match answer {
            Ok(()) => family.ok_or(Error::NoFamily),
            Err(Error::Kernel {
                errno: Errno::ENOENT,
                ..
            }) => Err(Error::NoFamily),
            Err(e) => Err(e),
        }
    }

    fn change(&mut self, c: &Change) -> Result<(), Error> {
        let (op, command, attrs) = c.request();
        self.request(op, command, false, attrs).map(drop)
    }

    /// Puts a payload in a netlink message with the next sequence number.
    fn wrap<T: NlType, P: Size>(
        &mut self,
        ty: T,
        flags: NlmF,
        payload: P,
    ) -> Result<(u32, Nlmsghdr<T, P>), String> {
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

    /// Builds one IPVS request; returns its sequence number and message.
    fn ipvs_msg(
        &mut self,
        command: u8,
        flags: NlmF,
        attrs: &Attrs,
    ) -> Result<(u32, Nlmsghdr<u16, Msg>), String> {
        let built = attrs.build()?;
        let genl: Msg = GenlmsghdrBuilder::default()
            .cmd(command)
            .version(GENL_VERSION)
            .attrs(built.into_iter().collect::<GenlBuffer<u16, Buffer>>())
            .build()
            .map_err(|e| e.to_string())?;
        self.wrap(self.family, flags, genl)
    }

    /// Serialises one change request onto `bytes`; returns its sequence
    /// number.
    fn append_msg(
        &mut self,
        command: u8,
        attrs: &Attrs,
        bytes: &mut Vec<u8>,
    ) -> Result<u32, String> {
        let (seq, msg) = self.ipvs_msg(command, NlmF::REQUEST | NlmF::ACK, attrs)?;
        append_bytes(&msg, bytes)?;
        Ok(seq)
    }

    /// Sends changes in one datagram and collects each one's acknowledgement.
    fn send_batch(&mut self, cs: &[Change]) -> Result<Vec<Result<(), Error>>, Error> {
        let mut bytes = Vec::new();
        let mut pending = Vec::with_capacity(cs.len());
        for c in cs {
            let (op, command, attrs) = c.request();
            let seq = self
                .append_msg(command, &attrs, &mut bytes)
                .map_err(|what| Error::Protocol { op, what })?;
            pending.push((seq, op, None));
        }
        let first_op = pending.first().map_or(Op::Flush, |p| p.1);
        nix::sys::socket::send(self.sock.as_raw_fd(), &bytes, MsgFlags::empty()).map_err(|e| {
            Error::Io {
                op: first_op,
                err: io::Error::from_raw_os_error(e as i32),
            }
        })?;
        let mut left = pending.len();
        while left > 0 {
            let (iter, _) = self
                .sock
                .recv::<u16, Msg>()
                .map_err(|e| sock_err(first_op, e))?;
            for m in iter {
                let m = m.map_err(|e| sock_err(first_op, e))?;
                let Some(slot) = pending.iter_mut().find(|p| p.0 == *m.nl_seq()) else {
                    continue;
                };
                let result = match m.nl_payload() {
                    NlPayload::Ack(_) => Ok(()),
                    NlPayload::Err(e) => Err(kernel_error(slot.1, *e.error())),
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
            .map(|(_, op, r)| {
                r.unwrap_or(Err(Error::Protocol {
                    op,
                    what: "no acknowledgement".into(),
                }))
            })
            .collect())
    }

    /// Sends one request and collects the answers: the reply of a `doit`
    /// command, or every message of a dump.
    fn request(
        &mut self,
        op: Op,
        command: u8,
        dump: bool,
        attrs: Attrs,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let flags = if dump {
            NlmF::REQUEST | NlmF::ACK | NlmF::DUMP
        } else {
            NlmF::REQUEST | NlmF::ACK
        };
        let (seq, msg) = self
            .ipvs_msg(command, flags, &attrs)
            .map_err(|what| Error::Protocol { op, what })?;
        self.sock.send(&msg).map_err(|e| sock_err(op, e))?;
        let mut out = Vec::new();
        self.receive::<u16, Msg>(op, seq, dump, |p| {
            out.push(encode_attrs(p.attrs().get_attr_handle().get_attrs()));
        })?;
        Ok(out)
    }

    /// Reads the answers to request `seq`, handing each payload to `each`,
    /// up to its end: the acknowledgement, an error, or the end of a dump.
    fn receive<T, P>(
        &mut self,
        op: Op,
        seq: u32,
        dump: bool,
        mut each: impl FnMut(&P),
    ) -> Result<(), Error>
    where
        T: NlType + fmt::Debug,
        P: Size + FromBytesWithInput<Input = usize> + fmt::Debug,
    {
        loop {
            let (iter, _) = self.sock.recv::<T, P>().map_err(|e| sock_err(op, e))?;
            for m in iter {
                let m = m.map_err(|e| sock_err(op, e))?;
                if *m.nl_seq() != seq {
                    continue;
                }
                match m.nl_payload() {
                    NlPayload::Payload(p) => each(p),
                    NlPayload::Ack(_) => return Ok(()),
                    NlPayload::Err(e) => return Err(kernel_error(op, *e.error())),
                    NlPayload::DumpExtAck(e) if *e.error() != 0 => {
                        return Err(kernel_error(op, *e.error()))
                    }
                    NlPayload::DumpExtAck(_) => return Ok(()),
                    NlPayload::Empty if dump => return Ok(()),
                    NlPayload::Empty => {}
                }
            }
        }
    }
}

/// Serialises a message at the end of `bytes`, zero-filled to its padded
/// size, as if it were written into a zeroed buffer of its own and appended:
/// writing in place spares a buffer, its zeroing and a copy per change.
/// neli pads by the absolute position in the buffer, which is the same
/// because every message before it fills a multiple of the alignment.
fn append_bytes<M: ToBytes + Size>(msg: &M, bytes: &mut Vec<u8>) -> Result<(), String> {
    let start = bytes.len();
    let mut cursor = io::Cursor::new(std::mem::take(bytes));
    cursor.set_position(start as u64);
    let written = msg.to_bytes(&mut cursor).map_err(|e| e.to_string());
    *bytes = cursor.into_inner();
    written?;
    let end = start + msg.padded_size();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    Ok(())
}

/// The error a netlink error message reports (the kernel sends `-errno`).
fn kernel_error(op: Op, code: libc::c_int) -> Error {
    Error::Kernel {
        op,
        errno: Errno::from_raw(code.wrapping_neg()),
    }
}

/// Re-serialises top-level attributes so answers can be kept after the
/// receive buffer is reused.
fn encode_attrs(attrs: &[Attr]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in attrs {
        let p = a.nla_payload().as_ref();
        // Cannot wrap: the payload was read from an attribute of this length.
        let len = (p.len() + 4) as u16;
        let ty: u16 = a.nla_type().into();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(p);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

fn sock_err(op: Op, e: neli::err::SocketError) -> Error {
    match e {
        neli::err::SocketError::Io(err) => Error::Io {
            op,
            err: match err.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(err.kind(), err.to_string()),
            },
        },
        other => Error::Protocol {
            op,
            what: other.to_string(),
        },
    }
}

impl Ipvs for IpvsClient {
    fn info(&mut self) -> Result<Info, Error> {
        let r = self.request(Op::Init, cmd::GET_INFO, false, Attrs::default())?;
        let bad = || Error::Protocol {
            op: Op::Init,
            what: "incomplete info".into(),
        };
        let first = r.first().ok_or_else(bad)?;
        let p = parse_nested(first);
        Ok(Info {
            version: p.u32(info::VERSION).ok_or_else(bad)?,
            conn_tab_size: p.u32(info::CONN_TAB_SIZE).ok_or_else(bad)?,
        })
    }

    fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        let r = self.request(Op::GetServices, cmd::GET_SERVICE, true, Attrs::default())?;
        r.iter()
            .map(|m| parse_service(Op::GetServices, &parse_nested(m)))
            .collect()
    }

    fn service(&mut self, key: &ServiceConfig) -> Result<ServiceEntry, Error> {
        let a = Attrs::default().nested(attr::SERVICE, service_attrs(key));
        let r = self.request(Op::GetService, cmd::GET_SERVICE, false, a)?;
        let first = r.first().ok_or(Error::Kernel {
            op: Op::GetService,
            errno: Errno::ESRCH,
        })?;
        parse_service(Op::GetService, &parse_nested(first))
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        let a = Attrs::default().nested(attr::SERVICE, service_key_attrs(key));
        let r = self.request(Op::GetDests, cmd::GET_DEST, true, a)?;
        r.iter()
            .map(|m| parse_dest(&parse_nested(m), key.af))
            .collect()
    }

    fn add_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        self.change(&Change::AddService(s.clone()))
    }

    fn edit_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        self.change(&Change::EditService(s.clone()))
    }

    fn del_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        self.change(&Change::DelService(s.clone()))
    }

    fn zero(&mut self, s: Option<&ServiceConfig>) -> Result<(), Error> {
        self.change(&Change::Zero(s.cloned()))
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.change(&Change::Flush)
    }

    fn add_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        self.change(&Change::AddDest(s.clone(), d.clone()))
    }

    fn edit_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        self.change(&Change::EditDest(s.clone(), d.clone()))
    }

    fn del_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        self.change(&Change::DelDest(s.clone(), d.clone()))
    }

    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let r = self.request(Op::GetTimeout, cmd::GET_CONFIG, false, Attrs::default())?;
        let mut t = Timeouts::default();
        if let Some(first) = r.first() {
            let p = parse_nested(first);
            t.tcp = p.u32(attr::TIMEOUT_TCP).unwrap_or(0);
            t.tcp_fin = p.u32(attr::TIMEOUT_TCP_FIN).unwrap_or(0);
            t.udp = p.u32(attr::TIMEOUT_UDP).unwrap_or(0);
        }
        Ok(t)
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        self.change(&Change::SetTimeouts(*t))
    }

    fn daemons(&mut self) -> Result<Vec<DaemonConfig>, Error> {
        let r = self.request(Op::GetDaemon, cmd::GET_DAEMON, true, Attrs::default())?;
        r.iter().map(|m| parse_daemon(&parse_nested(m))).collect()
    }

    fn start_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error> {
        self.change(&Change::StartDaemon(d.clone()))
    }

    fn stop_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error> {
        self.change(&Change::StopDaemon(d.clone()))
    }

    fn apply(&mut self, c: &Change) -> Result<(), Error> {
        self.change(c)
    }

    fn apply_all(&mut self, cs: &[Change]) -> Vec<Result<(), Error>> {
        let mut out = Vec::with_capacity(cs.len());
        for chunk in cs.chunks(BATCH) {
            match self.send_batch(chunk) {
                Ok(results) => out.extend(results),
                // The socket itself failed: no result can be trusted, so the
                // failure stands for every change of the chunk.
                Err(e) => {
                    let errno = e.errno();
                    out.extend(chunk.iter().map(|c| {
                        Err(Error::Kernel {
                            op: c.request().0,
                            errno,
                        })
                    }));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_round_trip() {
        let s = ServiceConfig {
            key: ServiceKey {
                af: AF_INET,
                protocol: IPPROTO_TCP,
                addr: "10.0.0.1".parse().expect("literal"),
                port: 80,
                fwmark: 0,
            },
            sched_name: "wlc".into(),
            pe_name: Some("sip".into()),
            flags: svc_flags::PERSISTENT,
            timeout: 300,
            netmask: u32::MAX,
        };
        let built = service_attrs(&s).build().expect("build");
        let bytes = encode_attrs(&built);
        let p = parse_nested(&bytes);
        assert_eq!(p.u16(svc::AF), Some(AF_INET));
        assert_eq!(p.u16(svc::PORT).map(u16::from_be), Some(80));
        assert_eq!(p.string(svc::SCHED_NAME).as_deref(), Some("wlc"));
        assert_eq!(p.get(svc::PE_NAME), Some(&b"sip\0"[..]));
        assert_eq!(p.get(svc::ADDR).map(<[u8]>::len), Some(16));
        assert_eq!(p.u32(svc::TIMEOUT), Some(300));
    }

    /// One attribute as the kernel lays it out: length, type, payload, padding.
    fn tlv(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 4) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    #[test]
    fn service_request_attributes_are_laid_out_like_ipvsadms() {
        let s = ServiceConfig {
            key: ServiceKey {
                af: AF_INET,
                protocol: IPPROTO_UDP,
                addr: "10.0.0.1".parse().expect("literal"),
                port: 65535,
                fwmark: 0,
            },
            sched_name: "rr".into(),
            pe_name: Some("sip".into()),
            flags: svc_flags::PERSISTENT,
            timeout: 60,
            netmask: 0,
        };
        let mut addr = [0u8; 16];
        addr[..4].copy_from_slice(&[10, 0, 0, 1]);
        let mut flags = 1u32.to_ne_bytes().to_vec();
        flags.extend_from_slice(&u32::MAX.to_ne_bytes());
        let expected = [
            tlv(svc::AF, &AF_INET.to_ne_bytes()),
            tlv(svc::PROTOCOL, &IPPROTO_UDP.to_ne_bytes()),
            tlv(svc::ADDR, &addr),
            tlv(svc::PORT, &[0xff, 0xff]),
            tlv(svc::SCHED_NAME, b"rr\0"),
            tlv(svc::PE_NAME, b"sip\0"),
            tlv(svc::FLAGS, &flags),
            tlv(svc::TIMEOUT, &60u32.to_ne_bytes()),
            tlv(svc::NETMASK, &0u32.to_ne_bytes()),
        ]
        .concat();
        let built = service_attrs(&s).build().expect("build");
        assert_eq!(encode_attrs(&built), expected);
        // A fwmark service is identified by its mark alone.
        let k = ServiceKey {
            af: AF_INET6,
            fwmark: u32::MAX,
            ..ServiceKey::default()
        };
        let built = service_key_attrs(&k).build().expect("build");
        assert_eq!(
            encode_attrs(&built),
            [
                tlv(svc::AF, &AF_INET6.to_ne_bytes()),
                tlv(svc::FWMARK, &u32::MAX.to_ne_bytes()),
            ]
            .concat()
        );
    }

    #[test]
    fn replies_that_are_short_or_odd_are_errors_not_panics() {
        // Truncated headers, lengths past the end, and lengths below the
        // header size end the walk.
        for bytes in [
            &[][..],
            &[8, 0][..],
            &[200, 0, 1, 0, 1, 2, 3, 4][..],
            &[2, 0, 1, 0, 9, 9, 9, 9][..],
        ] {
            assert!(parse_nested(bytes).0.is_empty(), "{bytes:?}");
        }
        // Attributes too short for their type read as absent.
        let p = [tlv(svc::AF, &[2]), tlv(svc::FLAGS, &[1, 0, 0, 0])].concat();
        let parsed = parse_nested(&p);
        assert_eq!(parsed.u16(svc::AF), None);
        assert!(parse_service(Op::GetServices, &parsed).is_err());
        let top = tlv(attr::SERVICE, &p);
        assert!(parse_service(Op::GetServices, &parse_nested(&top)).is_err());
        let top = tlv(attr::DEST, &tlv(dest::ADDR, &[1, 2]));
        assert!(parse_dest(&parse_nested(&top), AF_INET).is_err());
        let top = tlv(attr::DAEMON, &tlv(daemon::MCAST_GROUP6, &[0xff; 8]));
        assert!(parse_daemon(&parse_nested(&top)).is_err());
        // Counters of odd widths are ignored; 64-bit ones are read whole.
        let st = [
            tlv(stats::CONNS, &[1, 2, 3]),
            tlv(stats::INBYTES, &u64::MAX.to_ne_bytes()),
            tlv(stats::CPS, &7u32.to_ne_bytes()),
        ]
        .concat();
        let s = parse_stats(&st);
        assert_eq!((s.conns, s.inbytes, s.cps), (0, u64::MAX, 7));
        // An error code the kernel would never send still maps to an errno.
        assert!(matches!(
            kernel_error(Op::Flush, libc::c_int::MIN),
            Error::Kernel { .. }
        ));
    }

    #[test]
    fn daemon_interface_names_keep_their_bytes() {
        let d = DaemonConfig {
            state: daemon_state::BACKUP,
            mcast_ifn: b"v\xe9th0".to_vec(),
            syncid: 255,
            ..DaemonConfig::default()
        };
        let (op, command, attrs) = Change::StopDaemon(d.clone()).request();
        assert_eq!((op, command), (Op::StopDaemon, cmd::DEL_DAEMON));
        let inner = [
            tlv(daemon::STATE, &daemon_state::BACKUP.to_ne_bytes()),
            tlv(daemon::MCAST_IFN, b"v\xe9th0\0"),
            tlv(daemon::SYNC_ID, &255u32.to_ne_bytes()),
        ]
        .concat();
        let built = attrs.build().expect("build");
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].nla_payload().as_ref(), &inner[..]);
        // And back, as the kernel answers a daemon dump.
        let top = tlv(attr::DAEMON, &inner);
        assert_eq!(parse_daemon(&parse_nested(&top)).expect("daemon"), d);
    }

    /// A batch written message after message in one buffer holds the same
    /// bytes as each message serialised into a zeroed buffer of its own.
    #[test]
    fn batched_messages_are_laid_out_one_after_the_other() {
        let s = ServiceConfig {
            key: ServiceKey {
                af: AF_INET,
                protocol: IPPROTO_UDP,
                addr: "10.0.0.1".parse().expect("literal"),
                port: 5060,
                fwmark: 0,
            },
            sched_name: "rr".into(),
            pe_name: Some("sip".into()),
            flags: svc_flags::PERSISTENT | svc_flags::ONEPACKET,
            timeout: 60,
            netmask: 0,
        };
        let d = DestConfig {
            af: AF_INET,
            addr: "192.168.0.1".parse().expect("literal"),
            port: 5060,
            fwd: fwd::MASQ,
            weight: 1,
            ..DestConfig::default()
        };
        let daemon = DaemonConfig {
            state: daemon_state::MASTER,
            mcast_ifn: b"eth10".to_vec(),
            ..DaemonConfig::default()
        };
        let changes = [
            Change::AddService(s.clone()),
            Change::AddDest(s.clone(), d.clone()),
            Change::Flush,
            Change::StartDaemon(daemon),
            Change::SetTimeouts(Timeouts::default()),
            Change::DelDest(s, d),
        ];
        let mut batch = Vec::new();
        let mut separate = Vec::new();
        for (seq, c) in (1..).zip(&changes) {
            let (_, command, attrs) = c.request();
            let genl: Msg = GenlmsghdrBuilder::default()
                .cmd(command)
                .version(GENL_VERSION)
                .attrs(attrs.build().expect("build").into_iter().collect())
                .build()
                .expect("genl");
            let msg = NlmsghdrBuilder::default()
                .nl_type(0x20u16)
                .nl_flags(NlmF::REQUEST | NlmF::ACK)
                .nl_seq(seq)
                .nl_payload(NlPayload::Payload(genl))
                .build()
                .expect("message");
            append_bytes(&msg, &mut batch).expect("append");
            let mut own = io::Cursor::new(vec![0; msg.padded_size()]);
            msg.to_bytes(&mut own).expect("serialise");
            separate.extend_from_slice(&own.into_inner());
        }
        assert_eq!(batch, separate);
    }

    /// A small deterministic generator, so the test needs no crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_replies_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let n = (xorshift(&mut seed) % 96) as usize;
            let mut inner: Vec<u8> = (0..n).map(|_| xorshift(&mut seed) as u8).collect();
            // Mostly well-formed lengths, so parsing gets past the headers.
            if n >= 4 && xorshift(&mut seed).is_multiple_of(2) {
                inner[..2].copy_from_slice(&(n as u16).to_ne_bytes());
                inner[2] %= 16;
                inner[3] = 0;
            }
            for ty in [attr::SERVICE, attr::DEST, attr::DAEMON] {
                let top = tlv(ty, &inner);
                let p = parse_nested(&top);
                let _ = parse_service(Op::GetServices, &p);
                let _ = parse_dest(&p, AF_INET6);
                let _ = parse_daemon(&p);
            }
            let _ = parse_stats(&inner);
        }
    }

    #[test]
    fn errors_are_worded_per_operation() {
        assert_eq!(
            describe(Op::AddService, Errno::EEXIST),
            "Service already exists"
        );
        assert_eq!(describe(Op::AddDest, Errno::ESRCH), "Service not defined");
        assert_eq!(describe(Op::DelDest, Errno::ENOENT), "No such destination");
        assert_eq!(
            describe(Op::Flush, Errno::ENOENT),
            "No such file or directory"
        );
        assert_eq!(
            describe(Op::AddService, Errno::EPERM),
            "Permission denied (you must be root)"
        );
    }
}
