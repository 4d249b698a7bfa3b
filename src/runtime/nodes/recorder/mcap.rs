//! The MCAP file: channels and schemas registered on first use, messages encoded by topic, the
//! temporary file renamed into place by [`Recorder::finish`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use mcap::records::MessageHeader;

use super::cdr::{Cdr, diagnostic_array_cdr, imu_cdr, laser_scan_cdr, odometry_cdr, pose_cdr, twist_cdr};
use super::schema::{JSON_SCHEMA, NUMBER, ROS2MSG, STRING, Schema, json_schema, schema};
use crate::msg::Msg;
use crate::runtime::node::ParamError;

/// Why a recording failed; every variant names the target file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The temporary file beside the target could not be created.
    #[error("recording {}: cannot create it: {source}", path.display())]
    Create {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// Writing MCAP records failed.
    #[error("recording {}: cannot write it: {source}", path.display())]
    Write {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: mcap::McapError,
    },
    /// Flushing or renaming the finished file into place failed.
    #[error("recording {}: cannot finish it: {source}", path.display())]
    Finish {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// An earlier error abandoned the recording (its temporary file is deleted).
    #[error("recording {}: abandoned after an earlier error", path.display())]
    Abandoned {
        /// Target file.
        path: PathBuf,
    },
    /// The node's parameters were refused.
    #[error(transparent)]
    Param(#[from] ParamError),
}

/// How velocity commands are recorded (the safety monitor's `use_stamped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandType {
    /// `geometry_msgs/msg/Twist`.
    Twist,
    /// `geometry_msgs/msg/TwistStamped` with frame `base_link` (Clearpath Jazzy, Nav2).
    TwistStamped,
}

/// Topic of [`Recorder::record_note`], relative to the namespace.
pub const NOTES_TOPIC: &str = "sim2real/notes";

/// An open MCAP recording.
pub struct Recorder {
    path: PathBuf,
    temp_path: PathBuf,
    /// `None` once finished or abandoned.
    writer: Option<mcap::Writer<BufWriter<File>>>,
    /// `/<namespace>/`, prefixed to every topic name.
    prefix: String,
    commands: CommandType,
    /// Channel ids by full topic name, added on first use.
    channels: BTreeMap<String, u16>,
    sequence: u32,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("prefix", &self.prefix)
            .field("commands", &self.commands)
            .field("open", &self.writer.is_some())
            .field("channels", &self.channels)
            .finish()
    }
}

impl Recorder {
    /// Starts a recording that [`Recorder::finish`] moves to `path`; topics are recorded under
    /// `/<namespace>/`.
    pub fn create(
        path: impl Into<PathBuf>,
        namespace: &str,
        commands: CommandType,
    ) -> Result<Recorder, RecordError> {
        let path = path.into();
        let temp_path = crate::files::temp_path(&path);
        let file =
            File::create(&temp_path).map_err(|source| RecordError::Create { path: path.clone(), source })?;
        let writer = mcap::WriteOptions::new().profile("ros2").create(BufWriter::new(file));
        let writer = match writer {
            Ok(w) => w,
            Err(source) => {
                let _ = std::fs::remove_file(&temp_path);
                return Err(RecordError::Write { path, source });
            }
        };
        let namespace = namespace.trim_matches('/');
        let prefix = if namespace.is_empty() { "/".to_owned() } else { format!("/{namespace}/") };
        Ok(Recorder {
            path,
            temp_path,
            writer: Some(writer),
            prefix,
            commands,
            channels: BTreeMap::new(),
            sequence: 0,
        })
    }

    /// The file the recording ends up in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `msg` at time `now_s` (s; the MCAP log and publish time).
    pub fn record(&mut self, now_s: f64, msg: &Msg) -> Result<(), RecordError> {
        let topic = msg.topic();
        let commands = self.commands;
        let channel = self.channel(topic.name(), || schema(topic, commands))?;
        let data = match msg {
            Msg::CmdVel(c) | Msg::PolicyCmd(c) => twist_cdr(c, commands),
            Msg::Odom(o) => odometry_cdr(o),
            Msg::Pose(p) => pose_cdr(p),
            Msg::Imu(i) => imu_cdr(i),
            Msg::Scan(s) => laser_scan_cdr(s),
            Msg::EStop(on) => {
                let mut cdr = Cdr::new();
                cdr.bool(*on);
                cdr.0
            }
            Msg::Diagnostics(d) => diagnostic_array_cdr(d),
            // Own topics: `to_json` is `Some` for all of them.
            own => own.to_json().unwrap_or_default().into_bytes(),
        };
        self.write(channel, now_s, &data)
    }

    /// Records a free-text note at `now_s` (s) on `/<namespace>/sim2real/notes`, for facts a
    /// reader of the recording must know (e.g. that the mission ran `--allow-unverified`).
    pub fn record_note(&mut self, now_s: f64, text: &str) -> Result<(), RecordError> {
        let channel = self.channel(NOTES_TOPIC, || Schema {
            name: "sim2real/Note",
            encoding: JSON_SCHEMA,
            data: json_schema(&[("stamp_s", NUMBER), ("text", STRING)]),
        })?;
        let data = serde_json::json!({ "stamp_s": now_s, "text": text }).to_string();
        self.write(channel, now_s, data.as_bytes())
    }

    /// Closes the file and moves it to its path, which it returns.
    pub fn finish(mut self) -> Result<PathBuf, RecordError> {
        let Some(mut writer) = self.writer.take() else {
            return Err(RecordError::Abandoned { path: self.path.clone() });
        };
        let closed = match writer.finish() {
            Ok(_) => writer
                .into_inner()
                .into_inner()
                .map_err(io::IntoInnerError::into_error)
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(&self.temp_path, &self.path)),
            Err(source) => {
                drop(writer);
                let _ = std::fs::remove_file(&self.temp_path);
                return Err(RecordError::Write { path: self.path.clone(), source });
            }
        };
        closed.map_err(|source| {
            let _ = std::fs::remove_file(&self.temp_path);
            RecordError::Finish { path: self.path.clone(), source }
        })?;
        crate::files::sync_dir(&self.path);
        Ok(self.path.clone())
    }

    /// The channel of `topic` (relative name), added with `schema` on first use.
    fn channel(&mut self, topic: &str, schema: impl FnOnce() -> Schema) -> Result<u16, RecordError> {
        let topic = format!("{}{topic}", self.prefix);
        if let Some(&id) = self.channels.get(&topic) {
            return Ok(id);
        }
        let schema = schema();
        let message_encoding = if schema.encoding == ROS2MSG { "cdr" } else { "json" };
        let id = self.with_writer(|w| {
            let schema_id = w.add_schema(schema.name, schema.encoding, schema.data.as_bytes())?;
            w.add_channel(schema_id, &topic, message_encoding, &BTreeMap::new())
        })?;
        self.channels.insert(topic, id);
        Ok(id)
    }

    fn write(&mut self, channel_id: u16, now_s: f64, data: &[u8]) -> Result<(), RecordError> {
        let time_ns = time_ns(now_s);
        let sequence = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        let header = MessageHeader { channel_id, sequence, log_time: time_ns, publish_time: time_ns };
        self.with_writer(|w| w.write_to_known_channel(&header, data))
    }

    /// Runs `f` on the open writer; an error abandons the recording, as the MCAP writer cannot
    /// continue after one.
    fn with_writer<T>(
        &mut self,
        f: impl FnOnce(&mut mcap::Writer<BufWriter<File>>) -> mcap::McapResult<T>,
    ) -> Result<T, RecordError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(RecordError::Abandoned { path: self.path.clone() });
        };
        f(writer).map_err(|source| {
            self.abandon();
            RecordError::Write { path: self.path.clone(), source }
        })
    }

    fn abandon(&mut self) {
        if let Some(writer) = self.writer.take() {
            drop(writer);
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

impl Drop for Recorder {
    /// Not finished: delete the temporary file (best effort), leaving the target untouched.
    fn drop(&mut self) {
        self.abandon();
    }
}

/// MCAP time (ns since the clock's epoch); negative or non-finite times record as 0.
fn time_ns(t_s: f64) -> u64 {
    let (sec, nanosec) = split_time(t_s);
    u64::try_from(sec).map_or(0, |s| s * 1_000_000_000 + u64::from(nanosec))
}

/// Whole seconds (floored) and nanoseconds in [0, 1e9), as `builtin_interfaces/Time` holds
/// them; non-finite times give zero. Split before scaling so epoch times keep ns precision.
pub(super) fn split_time(t_s: f64) -> (i64, u32) {
    if !t_s.is_finite() {
        return (0, 0);
    }
    let sec = t_s.floor();
    let nanosec = ((t_s - sec) * 1e9).round();
    if nanosec >= 1e9 { (sec as i64 + 1, 0) } else { (sec as i64, nanosec as u32) }
}
