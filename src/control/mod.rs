//! What drives a subtask, the same in training, in verification campaigns and on the robot:
//! [`observation`] turns odometry and range rays into what a policy sees and its action into a
//! velocity command; [`pure_pursuit`] is the baseline controller; [`route`] drives a route of
//! subtasks in a simulator and judges each against its interface.

pub mod observation;
pub mod pure_pursuit;
pub mod route;
