//! The histograms of a shard's units as an HdrHistogram interval log (`.hlog`): one tagged
//! interval per unit × histogram, V2 deflate-compressed, base64, as HdrHistogram's tools
//! read them.
//!
//! Tags are `u<unit>.flow<i>.<name>` (a flow's latency) and `u<unit>.station<i>.<name>` (a
//! station's waiting time), where `<unit>` is the global unit index, `<i>` the flow's or
//! station's index in the variant's network and `<name>` its name (characters an interval log
//! forbids in tags become `_`). An interval starts at the unit's warm-up end and lasts its
//! statistics window, in simulated seconds since time zero (StartTime and BaseTime 0). Values
//! are microseconds; the `max` column is in milliseconds. This module only encodes and
//! decodes bytes; it does no I/O.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use crate::model::sim::RunResult;

/// The legend line of Java's `HistogramLogWriter`.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

#[derive(Debug, thiserror::Error)]
pub enum HlogError {
    #[error("cannot encode a histogram: {0}")]
    Encode(String),
    #[error("unreadable interval log at byte {offset}; the file is damaged, run the shard again")]
    Parse { offset: usize },
    #[error(
        "interval `{tag}` does not decode: {message}; the file is damaged, run the shard again"
    )]
    Decode { tag: String, message: String },
    #[error("interval `{0}` appears twice; the file is damaged, run the shard again")]
    Duplicate(String),
    #[error(
        "interval `{0}` is missing; the file is damaged or from another study, run the shard again"
    )]
    Missing(String),
}

fn clean(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, ',' | '\r' | '\n' | ' ') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

pub fn flow_tag(unit: usize, flow: usize, name: &str) -> String {
    format!("u{unit}.flow{flow}.{}", clean(name))
}

pub fn station_tag(unit: usize, station: usize, name: &str) -> String {
    format!("u{unit}.station{station}.{}", clean(name))
}

/// One unit's results with the names of its flows and stations.
pub struct UnitHistograms<'a> {
    pub index: usize,
    pub result: &'a RunResult,
    pub flows: &'a [String],
    pub stations: &'a [String],
}

/// Encodes every histogram of `units` as an interval log.
pub fn encode(units: &[UnitHistograms<'_>], comment: &str) -> Result<Vec<u8>, HlogError> {
    let mut buf = Vec::new();
    let mut ser = V2DeflateSerializer::new();
    {
        // Header: version, comment, StartTime and BaseTime; the legend follows.
        let mut b = IntervalLogWriterBuilder::new();
        b.add_comment("[Histogram log format version 1.3]")
            .add_comment(comment)
            .with_start_time(SystemTime::UNIX_EPOCH)
            .with_base_time(SystemTime::UNIX_EPOCH)
            .with_max_value_divisor(1000.0);
        b.begin_log_with(&mut buf, &mut ser)
            .map_err(|e| HlogError::Encode(e.to_string()))?;
    }
    buf.extend_from_slice(LEGEND.as_bytes());
    let mut b = IntervalLogWriterBuilder::new();
    b.with_max_value_divisor(1000.0);
    // The divisor line was written with the header; this writer adds only intervals. It would
    // write the divisor line again, so it is built on a scratch buffer and the lines moved.
    let mut body = Vec::new();
    {
        let mut w = b
            .begin_log_with(&mut body, &mut ser)
            .map_err(|e| HlogError::Encode(e.to_string()))?;
        for u in units {
            let start = Duration::from_nanos((u.result.end - u.result.window).as_nanos());
            let len = Duration::from_nanos(u.result.window.as_nanos());
            let tagged = u
                .flows
                .iter()
                .enumerate()
                .map(|(i, n)| (flow_tag(u.index, i, n), &u.result.flows[i].latency))
                .chain(
                    u.stations
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (station_tag(u.index, i, n), &u.result.stations[i].wait)),
                );
            for (tag, h) in tagged {
                let t = Tag::new(&tag).expect("tags are cleaned of forbidden characters");
                w.write_histogram(h, start, len, Some(t))
                    .map_err(|e| HlogError::Encode(e.to_string()))?;
            }
        }
    }
    let skip = if body.starts_with(b"#[MaxValueDivisor") {
        body.iter().position(|&c| c == b'\n').map_or(0, |i| i + 1)
    } else {
        0
    };
    buf.extend_from_slice(&body[skip..]);
    Ok(buf)
}

/// One histogram V2 deflate-compressed and base64-encoded, as in an interval (a capacity
/// shard stores its answers' histograms so, in JSON).
pub fn to_base64(h: &Histogram<u64>) -> Result<String, HlogError> {
    let mut raw = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut raw)
        .map_err(|e| HlogError::Encode(format!("{e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The inverse of [`to_base64`]; the error is a message.
pub fn from_base64(de: &mut Deserializer, text: &str) -> Result<Histogram<u64>, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())?;
    de.deserialize(&mut raw.as_slice())
        .map_err(|e| format!("{e:?}"))
}

/// Decodes every interval of a log into its histogram, by tag.
pub fn decode(bytes: &[u8]) -> Result<HashMap<String, Histogram<u64>>, HlogError> {
    let mut out = HashMap::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| match e {
            hdrhistogram::serialization::interval_log::LogIteratorError::ParseError { offset } => {
                HlogError::Parse { offset }
            }
        })?;
        let LogEntry::Interval(iv) = entry else {
            continue;
        };
        let tag = iv
            .tag()
            .map_or_else(String::new, |t| t.as_str().to_string());
        let bad = |message: String| HlogError::Decode {
            tag: tag.clone(),
            message,
        };
        let h = from_base64(&mut de, iv.encoded_histogram()).map_err(bad)?;
        if out.insert(tag.clone(), h).is_some() {
            return Err(HlogError::Duplicate(tag));
        }
    }
    Ok(out)
}

/// Puts the histograms of unit `index` back into `result` (whose histograms are empty, as
/// deserialized), taking them out of `hists`.
pub fn restore(
    hists: &mut HashMap<String, Histogram<u64>>,
    index: usize,
    result: &mut RunResult,
    flows: &[String],
    stations: &[String],
) -> Result<(), HlogError> {
    for (i, n) in flows.iter().enumerate() {
        let tag = flow_tag(index, i, n);
        result.flows[i].latency = hists.remove(&tag).ok_or(HlogError::Missing(tag))?;
    }
    for (i, n) in stations.iter().enumerate() {
        let tag = station_tag(index, i, n);
        result.stations[i].wait = hists.remove(&tag).ok_or(HlogError::Missing(tag))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::stats::{FlowStats, StationStats};

    fn result(seed: u64) -> RunResult {
        let mut f = FlowStats::default();
        let mut s = StationStats::default();
        for i in 1..=500u64 {
            // Spread over six decades, to cover many buckets.
            let us = (i * i * seed) % 1_000_000_007;
            f.record(SimTime::from_nanos(us * 1000), (i % 3 + 1) as u32);
            s.record_wait(SimTime::from_nanos(i * 7_000));
        }
        f.record(SimTime::from_nanos(u64::MAX / 2), 1); // clamped at the histogram's bound
        f.flush();
        s.flush();
        RunResult {
            flows: vec![f, FlowStats::default()],
            stations: vec![s],
            meters: Vec::new(),
            outages: Vec::new(),
            accounting: Default::default(),
            events: 0,
            end: SimTime::from_nanos(660_000_000_000),
            window: SimTime::from_nanos(600_000_000_000),
            warmup_checks: Vec::new(),
        }
    }

    #[test]
    fn interval_log_round_trips_through_the_crates_reader() {
        let a = result(3);
        let b = result(11);
        let flows = ["inbound to,onprem".to_string(), "empty".to_string()];
        let stations = ["eop".to_string()];
        let units = [
            UnitHistograms {
                index: 4,
                result: &a,
                flows: &flows,
                stations: &stations,
            },
            UnitHistograms {
                index: 7,
                result: &b,
                flows: &flows,
                stations: &stations,
            },
        ];
        let bytes = encode(&units, "test").unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("#[Histogram log format version 1.3]\n"));
        assert!(text.contains("\n\"StartTimestamp\",\"Interval_Length\""));
        // The crate's reader sees six intervals, tagged, with the window as start and length.
        let intervals: Vec<_> = IntervalLogIterator::new(&bytes)
            .filter_map(|e| match e.unwrap() {
                LogEntry::Interval(iv) => Some(iv),
                _ => None,
            })
            .collect();
        assert_eq!(intervals.len(), 6);
        assert_eq!(
            intervals[0].tag().unwrap().as_str(),
            "u4.flow0.inbound_to_onprem"
        );
        assert_eq!(intervals[0].start_timestamp(), Duration::from_secs(60));
        assert_eq!(intervals[0].duration(), Duration::from_secs(600));
        assert_eq!(intervals[5].tag().unwrap().as_str(), "u7.station0.eop");
        // Decoded histograms equal the recorded ones, count for count.
        let mut hists = decode(&bytes).unwrap();
        let mut back = result(11);
        for f in &mut back.flows {
            f.latency.reset();
        }
        back.stations[0].wait.reset();
        restore(&mut hists, 7, &mut back, &flows, &stations).unwrap();
        assert_eq!(back.flows[0].latency, b.flows[0].latency);
        assert_eq!(back.flows[0].latency.max(), b.flows[0].latency.max());
        assert_eq!(back.flows[0].latency.len(), b.flows[0].delivered);
        assert_eq!(back.flows[1].latency.len(), 0);
        assert_eq!(back.stations[0].wait, b.stations[0].wait);
        // A unit the log does not hold is named.
        let e = restore(&mut hists, 9, &mut back, &flows, &stations).unwrap_err();
        assert!(e.to_string().contains("u9.flow0"), "{e}");
        // Damage is reported, not a panic.
        let mut broken = bytes.clone();
        let at = text.find("HISTFA").unwrap() + 10;
        broken[at] = b'!';
        assert!(decode(&broken).is_err());
    }
}
