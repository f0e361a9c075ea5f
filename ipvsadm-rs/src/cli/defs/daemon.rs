//! The options of the connection synchronisation daemons.

use super::{Def, Role, Takes, BASE};
use crate::cli::address::parse_mcast_group;
use crate::cli::legality::Opt;
use crate::cli::number::{number_range, number_u32};

/// The kernel's buffer for an interface name (`IP_VS_IFNAME_MAXLEN`).
const IP_VS_IFNAME_MAXLEN: usize = 16;
/// The longest sync message: an IPv4 datagram less its IP and UDP headers.
const MAX_SYNC_MAXLEN: i64 = 65535 - 20 - 8;

pub(crate) static MCAST_INTERFACE: Def = Def {
    long: "mcast-interface",
    takes: Takes::Value("INTERFACE"),
    help: "Multicast interface for sync",
    role: Role::Set(Some(Opt::Mcast), |d, v| {
        let name = v.unwrap_or_default().as_bytes();
        d.daemon.mcast_ifn = name[..name.len().min(IP_VS_IFNAME_MAXLEN - 1)].to_vec();
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_mcast_interface() {
    use super::testing::*;
    let d = start_daemon(&format!(
        "--start-daemon master --mcast-interface {}",
        "i".repeat(16)
    ));
    assert_eq!(d.interface, "i".repeat(15).into_bytes());
    assert_eq!(start_daemon("--start-daemon master").interface, b"eth0");
}

pub(crate) static SYNC_ID: Def = Def {
    long: "syncid",
    takes: Takes::Value("SID"),
    help: "Sync id",
    role: Role::Set(Some(Opt::SyncId), |d, v| {
        d.daemon.syncid = number_u32(v.unwrap_or_default(), 255, "illegal syncid specified")?;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_syncid() {
    use super::testing::*;
    assert_eq!(start_daemon("--start-daemon master --syncid 7").sync_id, 7);
    assert_eq!(
        says("--start-daemon master --syncid 256"),
        "illegal syncid specified\n"
    );
}

pub(crate) static MCAST_GROUP: Def = Def {
    long: "mcast-group",
    takes: Takes::Value("ADDRESS"),
    help: "Sync multicast group",
    role: Role::Set(Some(Opt::McastGroup), |d, v| {
        d.daemon.mcast_group = Some(parse_mcast_group(v.unwrap_or_default())?);
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_mcast_group() {
    use super::testing::*;
    let d = start_daemon("--start-daemon master --mcast-group 239.1.2.3");
    assert_eq!(d.group, Some("239.1.2.3".parse().expect("literal")));
    assert_eq!(
        says("--start-daemon master --mcast-group 10.0.0.1"),
        "invalid IPv4 mcast-group `10.0.0.1'\n"
    );
    assert_eq!(
        says("--start-daemon master --mcast-group ::1"),
        "invalid IPv6 mcast-group `::1'\n"
    );
}

pub(crate) static MCAST_PORT: Def = Def {
    long: "mcast-port",
    takes: Takes::Value("PORT"),
    help: "Sync multicast port",
    role: Role::Set(Some(Opt::McastPort), |d, v| {
        d.daemon.mcast_port = number_range(
            v.unwrap_or_default(),
            1,
            65535,
            "illegal mcast-port specified",
        )?;
        Ok(())
    }),
    ..BASE
};

pub(crate) static MCAST_TTL: Def = Def {
    long: "mcast-ttl",
    takes: Takes::Value("TTL"),
    help: "Sync multicast TTL",
    role: Role::Set(Some(Opt::McastTtl), |d, v| {
        d.daemon.mcast_ttl =
            number_range(v.unwrap_or_default(), 1, 255, "illegal mcast-ttl specified")?;
        Ok(())
    }),
    ..BASE
};

pub(crate) static SYNC_MAXLEN: Def = Def {
    long: "sync-maxlen",
    takes: Takes::Value("LENGTH"),
    help: "Maximum sync message length",
    role: Role::Set(Some(Opt::SyncMaxlen), |d, v| {
        d.daemon.sync_maxlen = number_range(
            v.unwrap_or_default(),
            1,
            MAX_SYNC_MAXLEN,
            "illegal sync-maxlen specified",
        )?;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_port_ttl_maxlen() {
    use super::testing::*;
    let d =
        start_daemon("--start-daemon master --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1400");
    assert_eq!((d.port, d.ttl, d.max_len), (9000, 3, 1400));
    for (opt, what) in [
        ("--mcast-port 65536", "mcast-port"),
        ("--mcast-ttl 0", "mcast-ttl"),
        ("--sync-maxlen 65508", "sync-maxlen"),
    ] {
        assert_eq!(
            says(&format!("--start-daemon master {opt}")),
            format!("illegal {what} specified\n")
        );
    }
    assert_eq!(
        says("--stop-daemon master --mcast-port 1"),
        "Illegal 'mcast-port' option with the 'stop-daemon' command\n"
    );
}
