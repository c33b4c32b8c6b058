//! Numbers as the page shows them, and the arithmetic of chart axes.

use crate::campaign::stats::{Rate, Spread};

/// A proportion as a percentage: one decimal, more when one decimal would round a rate that is
/// not exactly 0 or 1 to `0.0%` or `100.0%` (1 failure in 10 000 is not 100 % success).
pub fn pct(x: f64) -> String {
    let mut decimals = 1;
    loop {
        let s = format!("{:.*}", decimals, x * 100.0);
        let rounds_to_end =
            (s.parse::<f64>() == Ok(100.0) && x < 1.0) || (s.parse::<f64>() == Ok(0.0) && x > 0.0);
        if !rounds_to_end || decimals >= 4 {
            return s + "%";
        }
        decimals += 1;
    }
}

/// `35.4–87.9%`
pub fn interval(r: &Rate) -> String {
    format!("{}–{}", pct(r.low).trim_end_matches('%'), pct(r.high))
}

pub fn secs(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

pub fn spread_secs(s: &Option<Spread>) -> String {
    match s {
        Some(s) => format!("{} / {}", secs(s.p50), secs(s.p95)),
        None => "–".into(),
    }
}

pub fn spread_bps(s: &Option<Spread>) -> String {
    match s {
        Some(s) => format!("{:.0} / {:.0}", s.p50, s.p95),
        None => "–".into(),
    }
}

/// A coordinate for SVG: one decimal is finer than a pixel.
pub fn c(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A 1-2-5 step near `raw` (> 0).
pub fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Axis ticks from 0 (or `lo`) covering `hi`, about `n` of them: (ticks, axis end).
pub fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let step = nice_step((hi - lo).max(f64::MIN_POSITIVE) / n.max(1) as f64);
    let start = (lo / step).floor() * step;
    let mut v = Vec::new();
    let mut t = start;
    while t < hi + step * 0.999 && v.len() < 64 {
        v.push(t);
        t = start + step * v.len() as f64;
    }
    if v.len() < 2 {
        v.push(start + step);
    }
    let end = *v.last().unwrap_or(&1.0);
    (v, end)
}

/// A tick label without float noise: `0.3`, not `0.30000000000000004`.
pub fn tick_label(t: f64) -> String {
    let s = format!("{t:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// At most `max` characters, with an ellipsis when cut (the full text goes in a tooltip).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_never_round_a_failure_away() {
        assert_eq!(pct(2.0 / 3.0), "66.7%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pct(0.9999), "99.99%");
        assert_eq!(pct(0.00001), "0.001%");
    }

    #[test]
    fn ticks_cover_the_range_in_nice_steps() {
        let (t, end) = ticks(0.0, 37.0, 5);
        assert_eq!(t, [0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(end, 40.0);
        let (t, _) = ticks(0.0, 0.3, 3);
        assert_eq!(tick_label(t[1]), "0.1");
        let (t, end) = ticks(0.0, 0.0, 4);
        assert!(t.len() >= 2 && end > 0.0);
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
