//! Safe wrappers over the C library calls ipvsadm 1.31 uses to read and print
//! addresses, host names and service names.
//!
//! ipvsadm accepts `inet_aton` shorthand (`10.1`, `0x0a000001`), looks names up
//! through NSS (`gethostbyname`, `/etc/services`) and prints with glibc's
//! `inet_ntop`; calling the same functions is the only way to accept and print
//! exactly the same forms.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(af: c_int, src: *const c_void, dst: *mut c_char, size: u32) -> *const c_char;
    fn gethostbyname(name: *const c_char) -> *mut libc::hostent;
    fn gethostbyaddr(addr: *const c_void, len: u32, af: c_int) -> *mut libc::hostent;
}

/// Parses an IPv4 address the way `inet_aton(3)` does (all its shorthands).
pub(crate) fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let c = CString::new(s).ok()?;
    let mut a = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is NUL-terminated and `a` is a valid, writable in_addr.
    let r = unsafe { inet_aton(c.as_ptr(), &raw mut a) };
    (r != 0).then(|| Ipv4Addr::from(u32::from_be(a.s_addr)))
}

/// Parses a strict dotted-quad IPv4 address with `inet_pton(AF_INET)`.
pub(crate) fn parse_inet4(s: &str) -> Option<Ipv4Addr> {
    let c = CString::new(s).ok()?;
    let mut buf = [0u8; 4];
    // SAFETY: `c` is NUL-terminated and `buf` has room for an in_addr.
    let r = unsafe { inet_pton(libc::AF_INET, c.as_ptr(), buf.as_mut_ptr().cast()) };
    (r > 0).then(|| Ipv4Addr::from(buf))
}

/// Parses an IPv6 address with `inet_pton(AF_INET6)`.
pub(crate) fn parse_inet6(s: &str) -> Option<Ipv6Addr> {
    let c = CString::new(s).ok()?;
    let mut buf = [0u8; 16];
    // SAFETY: `c` is NUL-terminated and `buf` has room for an in6_addr.
    let r = unsafe { inet_pton(libc::AF_INET6, c.as_ptr(), buf.as_mut_ptr().cast()) };
    (r > 0).then(|| Ipv6Addr::from(buf))
}

/// Formats an address with glibc's `inet_ntop`, whose IPv6 text differs from
/// Rust's `Display` for IPv4-compatible addresses (`::1.2.3.4`).
pub(crate) fn ntop(addr: &IpAddr) -> String {
    let mut out: [c_char; 64] = [0; 64];
    let (af, bytes): (c_int, Vec<u8>) = match addr {
        IpAddr::V4(a) => (libc::AF_INET, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6, a.octets().to_vec()),
    };
    // SAFETY: `bytes` holds an address of the family's size, `out` is large
    // enough for any textual form (INET6_ADDRSTRLEN is 46).
    let p = unsafe {
        inet_ntop(
            af,
            bytes.as_ptr().cast(),
            out.as_mut_ptr(),
            out.len() as u32,
        )
    };
    if p.is_null() {
        return addr.to_string();
    }
    // SAFETY: inet_ntop succeeded and wrote a NUL-terminated string into `out`.
    unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Resolves a host name to its first IPv4 address, as `gethostbyname` does.
pub(crate) fn host_to_ipv4(name: &str) -> Option<Ipv4Addr> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is NUL-terminated; the result points to static storage that
    // stays valid until the next resolver call, and is only read here.
    unsafe {
        let h = gethostbyname(c.as_ptr());
        if h.is_null() {
            return None;
        }
        let h = &*h;
        if h.h_addrtype != libc::AF_INET || h.h_length != 4 || h.h_addr_list.is_null() {
            return None;
        }
        let first = *h.h_addr_list;
        if first.is_null() {
            return None;
        }
        let mut b = [0u8; 4];
        std::ptr::copy_nonoverlapping(first.cast::<u8>(), b.as_mut_ptr(), 4);
        Some(Ipv4Addr::from(b))
    }
}

/// Reverse-resolves an address to its canonical host name (raw bytes: NSS
/// does not promise UTF-8).
pub(crate) fn addr_to_host(addr: &IpAddr) -> Option<Vec<u8>> {
    let (af, bytes): (c_int, Vec<u8>) = match addr {
        IpAddr::V4(a) => (libc::AF_INET, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6, a.octets().to_vec()),
    };
    // SAFETY: `bytes` is an address of the given family and length; the
    // result points to static storage read before any other resolver call.
    unsafe {
        let h = gethostbyaddr(bytes.as_ptr().cast(), bytes.len() as u32, af);
        if h.is_null() || (*h).h_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*h).h_name).to_bytes().to_vec())
    }
}

fn proto_name(proto: u16) -> Option<&'static CStr> {
    match i32::from(proto) {
        libc::IPPROTO_TCP => Some(c"tcp"),
        libc::IPPROTO_UDP => Some(c"udp"),
        libc::IPPROTO_SCTP => Some(c"sctp"),
        _ => None,
    }
}

/// Looks a service name up in the services database for the protocol.
pub(crate) fn service_to_port(name: &str, proto: u16) -> Option<u16> {
    let p = proto_name(proto)?;
    let c = CString::new(name).ok()?;
    // SAFETY: both strings are NUL-terminated; the result is static storage.
    unsafe {
        let s = libc::getservbyname(c.as_ptr(), p.as_ptr());
        if s.is_null() {
            return None;
        }
        Some(u16::from_be((*s).s_port as u16))
    }
}

/// Looks a port up in the services database for the protocol.
pub(crate) fn port_to_service(port: u16, proto: u16) -> Option<Vec<u8>> {
    let p = proto_name(proto)?;
    // SAFETY: `p` is NUL-terminated; the result is static storage.
    unsafe {
        let s = libc::getservbyport(c_int::from(port.to_be()), p.as_ptr());
        if s.is_null() || (*s).s_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*s).s_name).to_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aton_accepts_shorthand() {
        assert_eq!(parse_inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            parse_inet_aton("0x7f000001"),
            Some(Ipv4Addr::new(127, 0, 0, 1))
        );
        assert_eq!(parse_inet_aton("1.2.3.4.5"), None);
        assert_eq!(parse_inet4("10.1"), None);
    }

    #[test]
    fn ntop_matches_glibc() {
        let a: IpAddr = "::1.2.3.4".parse().expect("literal");
        assert_eq!(ntop(&a), "::1.2.3.4");
        let b: IpAddr = "2001:db8::1".parse().expect("literal");
        assert_eq!(ntop(&b), "2001:db8::1");
    }
}
