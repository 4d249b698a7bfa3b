//! The bridge in a build without feature `ros2`: the same functions, each refusing with
//! [`RosError::NotBuilt`].

use super::{RosError, SpinOptions};
use crate::runtime::{Node, ParamSpec, ParamValue};

/// See the `ros2` build: reads a node's ROS parameters. Here: [`RosError::NotBuilt`].
pub fn read_params(
    _node_name: &str,
    _namespace: &str,
    _specs: &[ParamSpec],
) -> Result<Vec<(String, ParamValue)>, RosError> {
    Err(RosError::NotBuilt)
}

/// See the `ros2` build: runs a node over DDS until SIGINT/SIGTERM. Here:
/// [`RosError::NotBuilt`].
pub fn spin(_node: Box<dyn Node>, _namespace: &str, _options: &SpinOptions) -> Result<(), RosError> {
    Err(RosError::NotBuilt)
}

/// See the `ros2` build: runs several nodes in one process over DDS. Here:
/// [`RosError::NotBuilt`].
pub fn spin_all(
    _nodes: Vec<Box<dyn Node>>,
    _namespace: &str,
    _options: &SpinOptions,
) -> Result<(), RosError> {
    Err(RosError::NotBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_says_the_feature_is_missing() {
        let e = read_params("safety_monitor", "w200_0000", &[]).expect_err("no ros2");
        assert_eq!(e, RosError::NotBuilt);
        assert!(e.to_string().contains("feature `ros2`"), "{e}");
        assert_eq!(spin_all(Vec::new(), "w", &SpinOptions::default()), Err(RosError::NotBuilt));
    }
}
