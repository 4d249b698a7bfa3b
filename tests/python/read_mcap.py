#!/usr/bin/env python3
"""Reads a sim2real MCAP recording the way ROS 2 tooling does, as an independent check of
src/runtime/recorder.rs: every `cdr` message must decode with `mcap-ros2-support` from its
`ros2msg` schema, and every `json` message must parse and carry the fields its JSON schema
requires.

    pip install mcap mcap-ros2-support
    python3 tests/python/read_mcap.py recording.mcap

Prints a JSON summary per topic (count, schema, encoding; first and last decoded values for
odometry and velocity commands) and exits non-zero if anything fails to decode.
"""

import json
import math
import sys

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory


def stamp(header):
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def odometry(msg):
    q = msg.pose.pose.orientation
    return {
        "stamp_s": stamp(msg.header),
        "frame_id": msg.header.frame_id,
        "child_frame_id": msg.child_frame_id,
        "x_m": msg.pose.pose.position.x,
        "y_m": msg.pose.pose.position.y,
        "yaw_rad": math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z)),
        "speed_mps": msg.twist.twist.linear.x,
        "yaw_rate_rps": msg.twist.twist.angular.z,
    }


def twist(msg):
    out = {}
    if hasattr(msg, "header"):  # TwistStamped
        out = {"stamp_s": stamp(msg.header), "frame_id": msg.header.frame_id}
        msg = msg.twist
    out.update(linear_mps=msg.linear.x, angular_rps=msg.angular.z)
    return out


SUMMARISE = {
    "nav_msgs/msg/Odometry": odometry,
    "geometry_msgs/msg/Twist": twist,
    "geometry_msgs/msg/TwistStamped": twist,
}


def main(path):
    factory = DecoderFactory()
    decoders = {}
    topics = {}
    with open(path, "rb") as f:
        for schema, channel, message in make_reader(f).iter_messages(log_time_order=True):
            entry = topics.setdefault(
                channel.topic,
                {
                    "count": 0,
                    "schema": schema.name if schema else None,
                    "encoding": channel.message_encoding,
                },
            )
            entry["count"] += 1
            if channel.message_encoding == "cdr":
                if channel.id not in decoders:
                    decoders[channel.id] = factory.decoder_for(channel.message_encoding, schema)
                decoded = decoders[channel.id](message.data)
                summarise = SUMMARISE.get(schema.name)
                if summarise:
                    value = summarise(decoded)
                    entry.setdefault("first", value)
                    entry["last"] = value
            elif channel.message_encoding == "json":
                value = json.loads(message.data)
                required = json.loads(schema.data).get("required", [])
                missing = [k for k in required if k not in value]
                if missing:
                    raise ValueError(f"{channel.topic}: missing {missing} in {value}")
            else:
                raise ValueError(f"{channel.topic}: unexpected encoding {channel.message_encoding}")
    json.dump(topics, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} RECORDING.mcap")
    main(sys.argv[1])
