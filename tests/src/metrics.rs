//! Reading a server's `/metrics` text: the value of one sample, named by its
//! metric and labels exactly as the exposition writes them.

/// The value of the sample `series` (e.g. `tokenscope_cache_entries{cache="tokens"}`)
/// in the exposition `text`, if it is there and a whole number.
pub fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_found_by_its_whole_series_only() {
        let text = "# HELP x\nx_total{a=\"b\"} 7\nx_total{a=\"bc\"} 9\nx_total 3\n";
        assert_eq!(sample(text, "x_total{a=\"b\"}"), Some(7));
        assert_eq!(sample(text, "x_total{a=\"bc\"}"), Some(9));
        assert_eq!(sample(text, "x_total"), Some(3));
        assert_eq!(sample(text, "x_total{a=\"c\"}"), None);
    }
}
