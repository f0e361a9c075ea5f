//! The options that name a virtual service and set it up.

use ipvs::{Family, Protocol, ServiceFlags};

use super::{Def, Role, Takes, BASE};
use crate::cli::address::{parse_netmask, parse_service, Parsed};
use crate::cli::draft::Draft;
use crate::cli::legality::Opt;
use crate::cli::number::{atoi, parse_fwmark, parse_timeout, truncate, MAX_TIMEOUT};
use crate::cli::Exit;

/// The kernel's buffer for a scheduler's name (`IP_VS_SCHEDNAME_MAXLEN`).
const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
/// The kernel's buffer for an engine's name (`IP_VS_PENAME_MAXLEN`).
const IP_VS_PENAME_MAXLEN: usize = 16;
/// The longest `-b` text ipvsadm reads.
const SCHED_FLAGS_MAXLEN: usize = 127;

const HOST_PORT: Takes = Takes::Value("HOST[:PORT]");

/// `-t`, `-u`, `--sctp-service`: the service's protocol, address and port.
fn set_service(d: &mut Draft, protocol: Protocol, v: Option<&str>) -> Result<(), Exit> {
    d.svc.key.protocol = protocol;
    match parse_service(v.unwrap_or_default(), &mut d.svc.key, &mut d.svc.netmask) {
        Parsed::None => Err(Exit::fail(
            "illegal virtual server address[:port] specified",
        )),
        _ => Ok(()),
    }
}

pub(crate) static TCP_SERVICE: Def = Def {
    long: "tcp-service",
    short: Some('t'),
    takes: HOST_PORT,
    help: "TCP virtual service",
    role: Role::Set(Some(Opt::Service), |d, v| set_service(d, Protocol::Tcp, v)),
    ..BASE
};

pub(crate) static UDP_SERVICE: Def = Def {
    long: "udp-service",
    short: Some('u'),
    takes: HOST_PORT,
    help: "UDP virtual service",
    role: Role::Set(Some(Opt::Service), |d, v| set_service(d, Protocol::Udp, v)),
    ..BASE
};

pub(crate) static SCTP_SERVICE: Def = Def {
    long: "sctp-service",
    takes: HOST_PORT,
    help: "SCTP virtual service",
    role: Role::Set(Some(Opt::Service), |d, v| set_service(d, Protocol::Sctp, v)),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_address_services() {
    use super::testing::*;
    use ipvs::ServiceKey;
    let inet = |line: &str| match add(line).key {
        ServiceKey::Inet { protocol, addr } => (protocol, addr),
        k => panic!("{k:?}"),
    };
    let (p, a) = inet("-A -t 10.0.0.1:65535");
    assert_eq!(
        (p, a.to_string().as_str()),
        (Protocol::Tcp, "10.0.0.1:65535")
    );
    let v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let (p, a) = inet(&format!("-A -u [{v6}]:5060"));
    assert_eq!(
        (p, a.port(), Family::of(&a.ip())),
        (Protocol::Udp, 5060, Family::Inet6)
    );
    assert_eq!(
        inet("--add-service --sctp-service 10.0.0.1:9").0,
        Protocol::Sctp
    );
    assert_eq!(
        says("-A -t 10.0.0.1:65536"),
        "illegal virtual server address[:port] specified\n"
    );
    assert_eq!(
        says("-A -t 10.0.0.1"),
        "Zero port specified for non-persistent service\n"
    );
    assert_eq!(
        says("-A -t 10.0.0.1:80 -u 10.0.0.1:80"),
        "multiple 'service-address' options specified\n"
    );
}

pub(crate) static FWMARK_SERVICE: Def = Def {
    long: "fwmark-service",
    short: Some('f'),
    takes: Takes::Value("FWMARK"),
    help: "Firewall-mark virtual service",
    role: Role::Set(Some(Opt::Service), |d, v| {
        d.svc.key.af = Family::Inet;
        d.svc.key.protocol = Protocol::Tcp;
        d.svc.key.fwmark = parse_fwmark(v.unwrap_or_default())?;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_fwmark_service() {
    use super::testing::*;
    use ipvs::ServiceKey;
    assert_eq!(
        add("-A -f 4294967295").key,
        ServiceKey::Fwmark {
            family: Family::Inet,
            mark: u32::MAX
        }
    );
    assert_eq!(
        says("-A -f 4294967296"),
        "invalid fwmark value `4294967296' specified\n"
    );
    assert_eq!(says("-A -f 0"), "invalid fwmark value `0' specified\n");
}

pub(crate) static IPV6: Def = Def {
    long: "ipv6",
    short: Some('6'),
    help: "The fwmark service uses IPv6",
    role: Role::Set(None, |d, _| {
        if d.svc.key.fwmark == 0 {
            // ipvsadm's message ends with a line feed of its own.
            return Err(Exit::fail("-6 used before -f\n"));
        }
        d.svc.key.af = Family::Inet6;
        d.svc.netmask = 128;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_ipv6() {
    use super::testing::*;
    use ipvs::{Netmask, ServiceKey};
    let s = add("-A -f 7 -6");
    assert_eq!(
        (s.key, s.netmask),
        (
            ServiceKey::Fwmark {
                family: Family::Inet6,
                mark: 7
            },
            Netmask::Ipv6(128)
        )
    );
    assert_eq!(says("-A -6 -f 1"), "-6 used before -f\n\n");
}

pub(crate) static SCHEDULER: Def = Def {
    long: "scheduler",
    short: Some('s'),
    takes: Takes::Value("SCHEDULER"),
    help: "Scheduling algorithm",
    role: Role::Set(Some(Opt::Scheduler), |d, v| {
        d.svc.sched_name = truncate(v.unwrap_or_default(), IP_VS_SCHEDNAME_MAXLEN - 1);
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_scheduler() {
    use super::testing::*;
    assert_eq!(add("-A -t 10.0.0.1:80 -s rr").scheduler.name(), "rr");
    // Cut to the kernel's buffer, as ipvsadm's strncpy cuts it.
    let s = add(&format!("-A -u 10.0.0.1:5060 -s {}", "s".repeat(16)));
    assert_eq!(s.scheduler.name(), "s".repeat(15));
    assert_eq!(
        says("-A -t 10.0.0.1:80 -s rr -s wlc"),
        "multiple 'scheduler' options specified\n"
    );
}

pub(crate) static PERSISTENT: Def = Def {
    long: "persistent",
    short: Some('p'),
    takes: Takes::MaybeValue("TIMEOUT"),
    help: "Persistent service, optionally with its timeout",
    role: Role::Set(Some(Opt::Persistent), |d, v| {
        d.svc.flags |= ServiceFlags::PERSISTENT;
        d.svc.timeout = parse_timeout(v, 1, MAX_TIMEOUT)?;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_persistent() {
    use super::testing::*;
    assert_eq!(add("-A -u 10.0.0.1:5060 -p 60").timeout, 60);
    assert_eq!(add("-A -t 10.0.0.1:0 -p").timeout, 360);
    let s = add("-A -t 10.0.0.1:0 -p -s rr");
    assert_eq!((s.timeout, s.scheduler.name()), (360, "rr"));
    assert!(s.flags.contains(ServiceFlags::PERSISTENT));
    assert_eq!(err("-A -t 10.0.0.1:80 -p 0").code, 2);
    assert_eq!(
        says("-A -t 10.0.0.1:80 -p 2678401"),
        "invalid timeout value `2678401' specified\n"
    );
}

pub(crate) static NETMASK: Def = Def {
    long: "netmask",
    short: Some('M'),
    takes: Takes::Value("NETMASK"),
    help: "Persistence granularity mask",
    role: Role::Set(Some(Opt::Netmask), |d, v| {
        let v = v.unwrap_or_default();
        if d.svc.key.af != Family::Inet6 {
            d.svc.netmask = parse_netmask(v)
                .ok_or_else(|| Exit::fail("illegal virtual server persistent mask specified"))?;
        } else {
            let n = atoi(v);
            if !(1..=128).contains(&n) {
                return Err(Exit::fail("illegal ipv6 netmask specified"));
            }
            d.svc.netmask = n as u32;
        }
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_netmask() {
    use super::testing::*;
    use ipvs::Netmask;
    use std::net::Ipv4Addr;
    assert_eq!(
        add("-A -t 10.0.0.1:80").netmask,
        Netmask::Ipv4(Ipv4Addr::BROADCAST)
    );
    assert_eq!(
        add("-A -u 10.0.0.1:5060 -p 60 -M 0.0.0.0").netmask,
        Netmask::Ipv4(Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(add("-A -t [2001:db8::1]:80").netmask, Netmask::Ipv6(128));
    assert_eq!(add("-A -f 7 -6 -M 64").netmask, Netmask::Ipv6(64));
    assert_eq!(
        says("-A -f 7 -6 -M 129"),
        "illegal ipv6 netmask specified\n"
    );
}

pub(crate) static OPS: Def = Def {
    long: "ops",
    short: Some('o'),
    help: "One-packet scheduling",
    role: Role::Set(Some(Opt::Ops), |d, _| {
        d.svc.flags |= ServiceFlags::ONE_PACKET;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_ops() {
    use super::testing::*;
    assert!(add("-A -u 10.0.0.1:5060 -o")
        .flags
        .contains(ServiceFlags::ONE_PACKET));
    assert_eq!(
        says("-A -t 10.0.0.1:80 -o"),
        "One-Packet Scheduling is only for UDP virtual services\n"
    );
}

pub(crate) static PE: Def = Def {
    long: "pe",
    takes: Takes::Value("ENGINE"),
    help: "Persistence engine",
    role: Role::Set(Some(Opt::Pe), |d, v| {
        d.svc.pe_name = Some(truncate(v.unwrap_or_default(), IP_VS_PENAME_MAXLEN));
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_pe() {
    use super::testing::*;
    let s = add("-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip");
    assert_eq!(s.pe_name.as_deref(), Some("sip"));
    assert_eq!(add("-A -u 10.0.0.1:5060").pe_name, None);
    // Cut to the kernel's buffer (ipvsadm copies one byte more than a scheduler's).
    let s = add(&format!("-A -u 10.0.0.1:5060 --pe {}", "p".repeat(17)));
    assert_eq!(s.pe_name, Some("p".repeat(16)));
    assert_eq!(
        says("-a -u 10.0.0.1:5060 -r 10.0.0.2 --pe sip"),
        "Illegal 'pe' option with the 'add-server' command\n"
    );
}

pub(crate) static SCHED_FLAGS: Def = Def {
    long: "sched-flags",
    short: Some('b'),
    takes: Takes::Value("FLAGS"),
    help: "Scheduler flags (comma-separated)",
    role: Role::Set(Some(Opt::SchedFlags), |d, v| {
        let a = truncate(v.unwrap_or_default(), SCHED_FLAGS_MAXLEN);
        // An empty argument is ignored by ipvsadm.
        d.sched_flags_arg = (!a.is_empty()).then_some(a);
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_sched_flags() {
    use super::testing::*;
    let s = add("-A -t 10.0.0.1:80 -s sh -b sh-port,sh-fallback");
    assert_eq!(
        s.flags.bits() & ServiceFlags::SCHED_MASK.bits(),
        (ServiceFlags::SCHED_1 | ServiceFlags::SCHED_2).bits()
    );
    assert_eq!(
        says("-A -t 10.0.0.1:80 -b sh-port"),
        "incompatible scheduler flag `sh-port'\n"
    );
    assert_eq!(
        says("-A -t 10.0.0.1:80 -b nope"),
        "invalid scheduler flag `nope'\n"
    );
    assert_eq!(
        says("-A -t 10.0.0.1:80 -b ,"),
        "invalid scheduler flag `,'\n"
    );
}
