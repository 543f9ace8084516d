//! Which addresses a webhook may call. A shop names a URL; the engine must
//! not become a way into its own network. Checked when an endpoint is
//! registered and again before each delivery, against every address the
//! name resolves to; the delivery then connects only to those checked
//! addresses (the request is pinned to them) and follows no redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// `ODR_WEBHOOK_ALLOW_PRIVATE`: whether private and local addresses pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow_private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressRefusal {
    #[error("must be an absolute http or https URL")]
    NotAUrl,
    #[error("must use http or https, not `{0}`")]
    Scheme(String),
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must name a host")]
    NoHost,
    #[error("`{host}` does not resolve: {detail}")]
    Unresolved { host: String, detail: String },
    #[error("resolves to {ip}, a {kind} address, which is refused (set ODR_WEBHOOK_ALLOW_PRIVATE=true to allow it)")]
    Refused { ip: IpAddr, kind: &'static str },
}

/// A URL that passed, with the addresses to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    /// The host name to pin (none for an IP literal).
    pub host: Option<String>,
    pub addrs: Vec<SocketAddr>,
}

/// The checks that need no network: scheme, credentials, host.
pub fn parse_url(url: &str) -> Result<Url, AddressRefusal> {
    let parsed = Url::parse(url.trim()).map_err(|_| AddressRefusal::NotAUrl)?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(AddressRefusal::Scheme(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AddressRefusal::Credentials);
    }
    if parsed.host().is_none() {
        return Err(AddressRefusal::NoHost);
    }
    Ok(parsed)
}

/// Parses `url`, resolves its host and checks every address.
pub async fn check_url(url: &str, policy: AddressPolicy) -> Result<Target, AddressRefusal> {
    let url = parse_url(url)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let (host, addrs) = match url.host() {
        Some(url::Host::Ipv4(ip)) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Some(url::Host::Ipv6(ip)) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Some(url::Host::Domain(name)) => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| AddressRefusal::Unresolved {
                    host: name.to_owned(),
                    detail: e.to_string(),
                })?
                .collect();
            if found.is_empty() {
                return Err(AddressRefusal::Unresolved {
                    host: name.to_owned(),
                    detail: "no address".into(),
                });
            }
            (Some(name.to_owned()), found)
        }
        None => return Err(AddressRefusal::NoHost),
    };
    if !policy.allow_private {
        for addr in &addrs {
            if let Some(kind) = refused_kind(addr.ip()) {
                return Err(AddressRefusal::Refused {
                    ip: addr.ip(),
                    kind,
                });
            }
        }
    }
    Ok(Target { url, host, addrs })
}

/// What kind of non-public address `ip` is, if it is one.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => refused_v4(v4),
            None => refused_v6(v6),
        },
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip == Ipv4Addr::new(169, 254, 169, 254) {
        "metadata"
    } else if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "carrier-grade NAT"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_broadcast() {
        "broadcast"
    } else {
        return None;
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(
        if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
            "metadata"
        } else if ip.is_unspecified() {
            "unspecified"
        } else if ip.is_loopback() {
            "loopback"
        } else if first & 0xfe00 == 0xfc00 {
            "unique-local"
        } else if first & 0xffc0 == 0xfe80 {
            "link-local"
        } else if ip.is_multicast() {
            "multicast"
        } else {
            return None;
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<&'static str> {
        refused_kind(ip.parse().expect("an address"))
    }

    #[test]
    fn local_private_and_metadata_addresses_are_refused() {
        for (ip, expected) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00:ec2::254", "metadata"),
            ("fc00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["93.184.216.34", "100.128.0.1", "2606:2800:220:1::1"] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn only_plain_http_urls_pass_the_syntax_check() {
        assert_eq!(
            parse_url("ftp://shop.example/hook"),
            Err(AddressRefusal::Scheme("ftp".into()))
        );
        assert_eq!(
            parse_url("https://user:pw@shop.example/hook"),
            Err(AddressRefusal::Credentials)
        );
        assert_eq!(parse_url("not a url"), Err(AddressRefusal::NotAUrl));
        assert!(parse_url("https://shop.example/hook").is_ok());
    }

    #[tokio::test]
    async fn a_loopback_url_is_refused_unless_private_addresses_are_allowed() {
        let refused = check_url("http://127.0.0.1:9/hook", AddressPolicy::default()).await;
        assert!(matches!(
            refused,
            Err(AddressRefusal::Refused {
                kind: "loopback",
                ..
            })
        ));
        let allowed = check_url(
            "http://localhost:9/hook",
            AddressPolicy {
                allow_private: true,
            },
        )
        .await;
        assert!(allowed.is_ok(), "{allowed:?}");
    }
}
