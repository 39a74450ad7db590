//! IPv4 ranges in CIDR notation, and the arithmetic on them.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A range of IPv4 addresses: its network address (host bits cleared) and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Range {
    network: u32,
    prefix: u32,
}

/// Why a text is not an IPv4 range, worded for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotARange(pub String);

impl fmt::Display for NotARange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an IPv4 range; expected CIDR notation such as 203.0.113.0/24",
            self.0
        )
    }
}

impl FromStr for Ipv4Range {
    type Err = NotARange;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || NotARange(text.to_owned());
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let prefix: u32 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(invalid)?;
        let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
        Ok(Self {
            network: u32::from(address) & mask(prefix),
            prefix,
        })
    }
}

/// The network mask of a prefix length; `/0` masks nothing (a shift by 32 would overflow).
const fn mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

impl Ipv4Range {
    /// The range of `prefix` bits around `address`; a prefix above 32 is taken as 32.
    pub const fn new(address: Ipv4Addr, prefix: u32) -> Self {
        let prefix = if prefix > 32 { 32 } else { prefix };
        Self {
            network: address.to_bits() & mask(prefix),
            prefix,
        }
    }

    pub fn prefix(self) -> u32 {
        self.prefix
    }

    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// How many addresses it holds (2^(32 - prefix)), as a u64 so that `/0` fits.
    pub fn size(self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn contains(self, address: Ipv4Addr) -> bool {
        u32::from(address) & mask(self.prefix) == self.network
    }

    /// Whether every address of `self` is in `outer`.
    pub fn within(self, outer: Self) -> bool {
        self.prefix >= outer.prefix && self.network & mask(outer.prefix) == outer.network
    }

    /// The `n`th address of the range, if it has that many.
    pub fn nth(self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.network + n as u32))
    }
}

impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// Whether the text `cidr` is a range that contains `address`; text that is no range
/// contains nothing.
pub fn contains(cidr: &str, address: Ipv4Addr) -> bool {
    cidr.parse::<Ipv4Range>()
        .is_ok_and(|range| range.contains(address))
}

/// Whether the range `inner` lies inside the range `outer`; text that is no range is inside
/// nothing.
pub fn within(inner: &str, outer: &str) -> bool {
    match (inner.parse::<Ipv4Range>(), outer.parse::<Ipv4Range>()) {
        (Ok(inner), Ok(outer)) => inner.within(outer),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_normalise_and_nest_at_every_prefix_length() {
        let all: Ipv4Range = "0.0.0.0/0".parse().unwrap();
        let one: Ipv4Range = "255.255.255.255/32".parse().unwrap();
        assert!(one.within(all));
        assert!(!all.within(one));
        assert!(all.contains(Ipv4Addr::new(8, 8, 8, 8)));
        assert_eq!(one.size(), 1);
        assert_eq!(one.nth(0), Some(Ipv4Addr::BROADCAST));
        assert_eq!(one.nth(1), None, "no address past the last");
        assert_eq!(all.size(), 1 << 32);
        assert_eq!(
            "10.244.3.7/16".parse::<Ipv4Range>().unwrap().to_string(),
            "10.244.0.0/16"
        );
        assert!(within("10.244.0.0/16", "10.0.0.0/8"));
        assert!(!within("10.0.0.0/8", "10.244.0.0/16"));
        assert!(contains("10.244.0.0/16", Ipv4Addr::new(10, 244, 255, 255)));
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "",
        ] {
            let error = bad.parse::<Ipv4Range>().unwrap_err();
            assert!(error.to_string().contains("is not an IPv4 range"), "{bad}");
        }
    }
}
