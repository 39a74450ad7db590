//! The environment's prices as OpenCost reads and bills them, so that the forecast of
//! `cargo xtask cost`, the budgets and quotas, and OpenCost's reports are one figure.
//!
//! OpenCost's `custom` provider reads its prices from the pricing ConfigMap through
//! `UpdateFromMap` (opencost `pkg/cloud/provider/providerconfig.go`): the keys `CPU`,
//! `spotCPU`, `RAM`, `spotRAM`, `GPU` and `storage` (first letter upper-cased) are taken as
//! monthly prices, divided by 730 and kept as `fmt.Sprintf("%f", …)`, six decimals. Load
//! balancer prices (`firstFiveForwardingRulesCost`, …) are read as they are, per hour
//! (`customprovider.go` `LoadBalancerPricing`).

use crate::model::{HOURS_PER_MONTH, Pricing};

/// Decimals OpenCost keeps of each hourly price it derives from a monthly one (`%f`).
pub const OPENCOST_HOURLY_DECIMALS: usize = 6;

/// OpenCost rounds an hourly price to 0 unless it is above this (half its last decimal).
pub const SMALLEST_BILLED_HOURLY: f64 = 0.000_000_5;

/// What the platform writes into OpenCost's pricing ConfigMap: text, as the chart quotes it
/// and OpenCost parses it with `strconv.ParseFloat`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenCostPrices {
    /// Per vCPU and month.
    pub cpu_per_vcpu_month: String,
    /// Per GiB of memory and month.
    pub memory_per_gib_month: String,
    /// Per GiB of persistent volume and month.
    pub storage_per_gib_month: String,
    /// Per load balancer and hour.
    pub load_balancer_per_hour: String,
}

impl OpenCostPrices {
    pub fn of(pricing: &Pricing) -> Self {
        Self {
            cpu_per_vcpu_month: decimal(pricing.cpu_per_vcpu_hour * HOURS_PER_MONTH),
            memory_per_gib_month: decimal(pricing.memory_per_gib_hour * HOURS_PER_MONTH),
            storage_per_gib_month: decimal(pricing.storage_per_gib_month),
            load_balancer_per_hour: decimal(pricing.load_balancer_per_hour),
        }
    }
}

/// The hourly prices OpenCost bills at, after its conversion of what the platform wrote.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Billed {
    pub cpu_per_vcpu_hour: f64,
    pub memory_per_gib_hour: f64,
    pub storage_per_gib_hour: f64,
    pub load_balancer_per_hour: f64,
}

impl Billed {
    pub fn of(pricing: &Pricing) -> Self {
        let written = OpenCostPrices::of(pricing);
        let parse = |text: &str| text.parse::<f64>().unwrap_or(0.0);
        Self {
            cpu_per_vcpu_hour: hourly_of_monthly(parse(&written.cpu_per_vcpu_month)),
            memory_per_gib_hour: hourly_of_monthly(parse(&written.memory_per_gib_month)),
            storage_per_gib_hour: hourly_of_monthly(parse(&written.storage_per_gib_month)),
            load_balancer_per_hour: parse(&written.load_balancer_per_hour),
        }
    }

    /// A month of the given usage: vCPUs, GiB of memory, GiB of volumes, load balancers.
    pub fn monthly(&self, cpu_cores: f64, memory_gib: f64, storage_gib: f64, lbs: f64) -> f64 {
        HOURS_PER_MONTH
            * (cpu_cores * self.cpu_per_vcpu_hour
                + memory_gib * self.memory_per_gib_hour
                + storage_gib * self.storage_per_gib_hour
                + lbs * self.load_balancer_per_hour)
    }
}

/// OpenCost's conversion of a monthly price: `%f` of `monthly / 730`. Rust's fixed-precision
/// formatting rounds the exact binary value to nearest, as Go's `strconv` does.
pub fn hourly_of_monthly(monthly: f64) -> f64 {
    format!("{:.*}", OPENCOST_HOURLY_DECIMALS, monthly / HOURS_PER_MONTH)
        .parse()
        .unwrap_or(0.0)
}

/// A price as short decimal text: nine decimals at most, trailing zeros dropped, so that
/// `0.028 × 730` is written `20.44` rather than `20.439999999999998`.
pub(crate) fn decimal(value: f64) -> String {
    let text = format!("{value:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing(cpu: f64, memory: f64, storage_month: f64, lb: f64) -> Pricing {
        Pricing {
            cpu_per_vcpu_hour: cpu,
            memory_per_gib_hour: memory,
            storage_per_gib_month: storage_month,
            load_balancer_per_hour: lb,
        }
    }

    #[test]
    fn hourly_prices_are_written_monthly_and_come_back_hourly() {
        let written = OpenCostPrices::of(&pricing(0.028, 0.0035, 0.06, 0.01));
        assert_eq!(written.cpu_per_vcpu_month, "20.44");
        assert_eq!(written.memory_per_gib_month, "2.555");
        assert_eq!(written.storage_per_gib_month, "0.06");
        assert_eq!(written.load_balancer_per_hour, "0.01");
        let billed = Billed::of(&pricing(0.028, 0.0035, 0.06, 0.01));
        assert_eq!(billed.cpu_per_vcpu_hour, 0.028);
        assert_eq!(billed.memory_per_gib_hour, 0.0035);
        assert_eq!(billed.load_balancer_per_hour, 0.01);
        // 0.06 / 730 = 0.0000821917…, kept as 0.000082: OpenCost bills 0.05986 a GiB-month.
        assert_eq!(billed.storage_per_gib_hour, 0.000082);
    }

    #[test]
    fn opencost_keeps_six_decimals_rounded_to_nearest() {
        assert_eq!(hourly_of_monthly(0.04), 0.000055);
        assert_eq!(hourly_of_monthly(0.000366), 0.000001);
        assert_eq!(
            hourly_of_monthly(0.000365),
            0.0,
            "0.000365 / 730 is a hair below half a millionth"
        );
        assert_eq!(hourly_of_monthly(0.0003), 0.0);
        assert_eq!(hourly_of_monthly(23.07603), 0.031611);
        assert_eq!(
            hourly_of_monthly(SMALLEST_BILLED_HOURLY * 730.0 * 1.01),
            0.000001
        );
    }

    #[test]
    fn a_month_of_usage_is_730_billed_hours() {
        let billed = Billed::of(&pricing(0.05, 0.01, 0.073, 0.02));
        let month = billed.monthly(2.0, 4.0, 10.0, 1.0);
        let expected = 730.0 * (2.0 * 0.05 + 4.0 * 0.01 + 10.0 * 0.0001 + 0.02);
        assert!((month - expected).abs() < 1e-9, "{month} vs {expected}");
    }

    #[test]
    fn decimals_are_short() {
        assert_eq!(decimal(0.0), "0");
        assert_eq!(decimal(1.0), "1");
        assert_eq!(decimal(0.031611 * 730.0), "23.07603");
    }
}
