//! Per-fidelity settings: range sensor, noise, latency and domain randomisation.

pub use crate::scan::RayConfig;

/// Standard deviations of the sensor noise (all zero = perfect sensing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoiseConfig {
    /// Odometry position noise (m).
    pub odom_position_m: f64,
    /// Odometry heading noise (rad).
    pub odom_yaw_rad: f64,
    /// Odometry speed noise (m/s).
    pub odom_speed_mps: f64,
    /// Gyro noise (rad/s).
    pub gyro_rps: f64,
    /// Accelerometer noise (m/s²).
    pub accel_mps2: f64,
    /// Range noise (m).
    pub range_m: f64,
}

/// A closed interval `[lo, hi]` a parameter is drawn from uniformly at each reset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower end.
    pub lo: f64,
    /// Upper end (≥ `lo`).
    pub hi: f64,
}

impl Range {
    /// A degenerate range: always `v`.
    pub const fn fixed(v: f64) -> Self {
        Self { lo: v, hi: v }
    }
}

/// Domain randomisation, drawn from the episode seed at every reset.
#[derive(Debug, Clone, PartialEq)]
pub struct Randomisation {
    /// Robot mass (kg).
    pub mass_kg: Range,
    /// Multiplier on every friction coefficient.
    pub friction_scale: Range,
    /// Command latency (s): how long a command waits before it reaches the motors.
    pub latency_s: Range,
}

impl Default for Randomisation {
    fn default() -> Self {
        Self { mass_kg: Range::fixed(260.0), friction_scale: Range::fixed(1.0), latency_s: Range::fixed(0.0) }
    }
}

/// Settings of `LowFidelity`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LowFidelityConfig {
    /// Range sensor.
    pub rays: RayConfig,
    /// Sensor noise (defaults to none).
    pub noise: NoiseConfig,
}

/// Settings of `HighFidelity`.
#[derive(Debug, Clone, PartialEq)]
pub struct HighFidelityConfig {
    /// Physics rate (Hz); a whole multiple of the control rate.
    pub physics_hz: f64,
    /// Range sensor.
    pub rays: RayConfig,
    /// Sensor noise.
    pub noise: NoiseConfig,
    /// Domain randomisation.
    pub randomisation: Randomisation,
    /// Roll or pitch beyond this is a tip-over (rad).
    pub tip_over_rad: f64,
}

impl Default for HighFidelityConfig {
    fn default() -> Self {
        Self {
            physics_hz: 200.0,
            rays: RayConfig::default(),
            noise: NoiseConfig {
                odom_position_m: 0.02,
                odom_yaw_rad: 0.005,
                odom_speed_mps: 0.02,
                gyro_rps: 0.005,
                accel_mps2: 0.05,
                range_m: 0.02,
            },
            randomisation: Randomisation::default(),
            tip_over_rad: 0.7,
        }
    }
}
