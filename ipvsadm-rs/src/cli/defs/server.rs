//! The options that name a real server and set it up, its tunnel included.

use ipvs::{Forward, TunnelFlags, TunnelType};

use super::{Def, Role, Takes, BASE};
use crate::cli::address::{parse_service, Parsed};
use crate::cli::draft::Draft;
use crate::cli::legality::Opt;
use crate::cli::number::{number_range, number_u32};
use crate::cli::Exit;

pub(crate) static REAL_SERVER: Def = Def {
    long: "real-server",
    short: Some('r'),
    takes: Takes::Value("HOST[:PORT]"),
    help: "Real server address",
    role: Role::Set(Some(Opt::Server), |d, v| {
        // Read against the service as given so far: without a port, the
        // server takes the service's port as it is at this point.
        let mut t = d.svc.key.clone();
        let mut mask = d.svc.netmask;
        let parsed = parse_service(v.unwrap_or_default(), &mut t, &mut mask);
        d.dest.af = t.af;
        d.dest.addr = t.addr;
        d.dest.port = t.port;
        match parsed {
            Parsed::None => Err(Exit::fail("illegal real server address[:port] specified")),
            Parsed::Addr => {
                d.dest.port = d.svc.key.port;
                Ok(())
            }
            Parsed::AddrPort => Ok(()),
        }
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_real_server() {
    use super::testing::*;
    use ipvs::Family;
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 0");
    assert_eq!((d.addr.port(), d.weight), (8080, 0));
    // -r before -t copies the port the service had then: none.
    let (_, d) = add_dest("-a -r 10.0.0.2 -t 10.0.0.1:80 -m");
    assert_eq!(d.addr.port(), 0);
    let (k, d) = add_dest("-a -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m");
    assert_eq!((k.family(), d.addr.is_ipv6()), (Family::Inet6, true));
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -m"),
        "Different address family is allowed only for tunneling servers\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2:65536"),
        "illegal real server address[:port] specified\n"
    );
    let (_, d) = add_dest("-a -t 10.0.0.1:0 -r 10.0.0.2:65535 -m");
    assert_eq!(d.addr.port(), 65535);
}

/// `-m`, `-i`, `-g`: the forwarding method.
fn forward(d: &mut Draft, f: Forward) -> Result<(), Exit> {
    d.dest.forward = f;
    Ok(())
}

pub(crate) static MASQUERADING: Def = Def {
    long: "masquerading",
    short: Some('m'),
    help: "Masquerading (NAT)",
    role: Role::Set(Some(Opt::Forward), |d, _| forward(d, Forward::Masq)),
    ..BASE
};

pub(crate) static IPIP: Def = Def {
    long: "ipip",
    short: Some('i'),
    help: "IPIP encapsulation (tunneling)",
    role: Role::Set(Some(Opt::Forward), |d, _| forward(d, Forward::Tunnel)),
    ..BASE
};

pub(crate) static GATEWAYING: Def = Def {
    long: "gatewaying",
    short: Some('g'),
    help: "Gatewaying (direct routing)",
    role: Role::Set(Some(Opt::Forward), |d, _| forward(d, Forward::Route)),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_forwarding() {
    use super::testing::*;
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -m");
    assert_eq!((d.forward, d.addr.port()), (Forward::Masq, 80));
    // Direct routing and tunnels always use the service port.
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -g");
    assert_eq!((d.forward, d.addr.port()), (Forward::Route, 80));
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i");
    assert_eq!(d.forward, Forward::Tunnel);
    assert_eq!(
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2").1.forward,
        Forward::Route
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -m -g"),
        "multiple 'forwarding-method' options specified\n"
    );
}

pub(crate) static WEIGHT: Def = Def {
    long: "weight",
    short: Some('w'),
    takes: Takes::Value("WEIGHT"),
    help: "Capacity of the real server",
    role: Role::Set(Some(Opt::Weight), |d, v| {
        d.dest.weight = number_u32(
            v.unwrap_or_default(),
            i64::from(i32::MAX),
            "illegal weight specified",
        )?;
        Ok(())
    }),
    ..BASE
};

pub(crate) static U_THRESHOLD: Def = Def {
    long: "u-threshold",
    short: Some('x'),
    takes: Takes::Value("UTHRESHOLD"),
    help: "Upper connection threshold",
    role: Role::Set(Some(Opt::UThreshold), |d, v| {
        d.dest.u_threshold = number_u32(
            v.unwrap_or_default(),
            i64::from(i32::MAX),
            "illegal u_threshold specified",
        )?;
        Ok(())
    }),
    ..BASE
};

pub(crate) static L_THRESHOLD: Def = Def {
    long: "l-threshold",
    short: Some('y'),
    takes: Takes::Value("LTHRESHOLD"),
    help: "Lower connection threshold",
    role: Role::Set(Some(Opt::LThreshold), |d, v| {
        d.dest.l_threshold = number_u32(
            v.unwrap_or_default(),
            i64::from(i32::MAX),
            "illegal l_threshold specified",
        )?;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_weight_and_thresholds() {
    use super::testing::*;
    let (_, d) =
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -w 2147483647 -x 2147483647 -y 2147483647");
    let max = i32::MAX as u32;
    assert_eq!(
        (d.weight, d.upper_threshold, d.lower_threshold),
        (max, max, max)
    );
    for (opt, what) in [
        ("-w", "weight"),
        ("-x", "u_threshold"),
        ("-y", "l_threshold"),
    ] {
        assert_eq!(
            says(&format!("-a -t 10.0.0.1:80 -r 10.0.0.2 {opt} 2147483648")),
            format!("illegal {what} specified\n")
        );
        assert_eq!(
            says(&format!("-a -t 10.0.0.1:80 -r 10.0.0.2 {opt} -1")),
            format!("illegal {what} specified\n")
        );
    }
}

pub(crate) static TUN_TYPE: Def = Def {
    long: "tun-type",
    takes: Takes::Value("TYPE"),
    help: "Tunnel type: ipip, gue or gre",
    role: Role::Set(Some(Opt::TunType), |d, v| {
        d.dest.tun_type = match v.unwrap_or_default() {
            "ipip" => TunnelType::Ipip,
            "gue" => TunnelType::Gue,
            "gre" => TunnelType::Gre,
            _ => return Err(Exit::fail("illegal tunnel type specified")),
        };
        Ok(())
    }),
    ..BASE
};

pub(crate) static TUN_PORT: Def = Def {
    long: "tun-port",
    takes: Takes::Value("PORT"),
    help: "Tunnel destination port",
    role: Role::Set(Some(Opt::TunPort), |d, v| {
        d.dest.tun_port = number_range(
            v.unwrap_or_default(),
            1,
            65535,
            "illegal tunnel port specified",
        )?;
        Ok(())
    }),
    ..BASE
};

/// `--tun-nocsum`, `--tun-csum`, `--tun-remcsum`: a checksum flag, added to
/// those given (ipvsadm's tables refuse two).
fn tun_flag(d: &mut Draft, f: TunnelFlags) -> Result<(), Exit> {
    d.dest.tun_flags = TunnelFlags::from_bits(d.dest.tun_flags.bits() | f.bits());
    Ok(())
}

pub(crate) static TUN_NOCSUM: Def = Def {
    long: "tun-nocsum",
    help: "Tunnel without checksum",
    role: Role::Set(Some(Opt::TunNocsum), |d, _| {
        tun_flag(d, TunnelFlags::NOCSUM)
    }),
    ..BASE
};

pub(crate) static TUN_CSUM: Def = Def {
    long: "tun-csum",
    help: "Tunnel with checksum",
    role: Role::Set(Some(Opt::TunCsum), |d, _| tun_flag(d, TunnelFlags::CSUM)),
    ..BASE
};

pub(crate) static TUN_REMCSUM: Def = Def {
    long: "tun-remcsum",
    help: "Tunnel with remote checksum",
    role: Role::Set(Some(Opt::TunRemcsum), |d, _| {
        tun_flag(d, TunnelFlags::REMCSUM)
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_tunnels() {
    use super::testing::*;
    let (_, d) =
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum");
    assert_eq!(
        (d.tunnel.kind, d.tunnel.port, d.tunnel.flags),
        (TunnelType::Gue, 6080, TunnelFlags::CSUM)
    );
    let (_, d) =
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 1 --tun-remcsum");
    assert_eq!(
        (d.tunnel.kind, d.tunnel.flags),
        (TunnelType::Gue, TunnelFlags::REMCSUM)
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue"),
        "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -m --tun-type gre"),
        "Tunnel options conflict with forward method\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-csum --tun-nocsum"),
        "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ipip --tun-port 5"),
        "Illegal 'tun-port' option with the 'ipip' tunnel type\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type vxlan"),
        "illegal tunnel type specified\n"
    );
    assert_eq!(
        says("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 0"),
        "illegal tunnel port specified\n"
    );
}
