"""On the Warthog: the certified policy stack between the operator and twist_mux.

Mirrors warthog.launch.yaml (the checked source of truth); tests/ros/check_launch.py checks that both name
the same arguments, nodes, parameter files and parameters.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def config(name):
    return PathJoinSubstitution([FindPackageShare("sim2real"), "config", name + ".yaml"])


def generate_launch_description():
    namespace = LaunchConfiguration("namespace")
    bundle = LaunchConfiguration("bundle")
    start_pose = LaunchConfiguration("start_pose")
    use_stamped = LaunchConfiguration("use_stamped")
    pose_topic = LaunchConfiguration("pose_topic")
    lidar_mount = LaunchConfiguration("lidar_mount")
    return LaunchDescription([
        DeclareLaunchArgument("namespace", default_value="w200_0000", description="robot namespace"),
        DeclareLaunchArgument("bundle", description="the certified bundle directory"),
        DeclareLaunchArgument(
            "start_pose",
            default_value="[0.0, 0.0, 0.0]",
            description="scenario pose [x m, y m, yaw rad] where odometry starts",
        ),
        DeclareLaunchArgument(
            "use_stamped",
            default_value="true",
            description="cmd_vel as TwistStamped (Clearpath's Jazzy stack); false for older robots",
        ),
        DeclareLaunchArgument(
            "pose_topic",
            default_value="",
            description="localisation pose topic (map frame) replacing odometry as the pose; empty for odometry",
        ),
        DeclareLaunchArgument(
            "lidar_mount",
            default_value="[0.0, 0.0, 0.0]",
            description="lidar pose on the robot [x m, y m, yaw rad] (base_link)",
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="policy_executor",
            namespace=namespace,
            arguments=["node", "policy_executor"],
            parameters=[
                config("policy_executor"),
                {"bundle": bundle, "start_pose": start_pose, "pose_topic": pose_topic, "lidar_mount": lidar_mount},
            ],
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="mission_executive",
            namespace=namespace,
            arguments=["node", "mission_executive"],
            parameters=[
                config("mission_executive"),
                {"bundle": bundle, "start_pose": start_pose, "pose_topic": pose_topic},
            ],
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="dialogue_agent",
            namespace=namespace,
            arguments=["node", "dialogue_agent"],
            parameters=[config("dialogue_agent"), {"bundle": bundle}],
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="tips_planner",
            namespace=namespace,
            arguments=["node", "tips_planner"],
            parameters=[config("tips_planner"), {"bundle": bundle}],
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="safety_monitor",
            namespace=namespace,
            arguments=["node", "safety_monitor"],
            parameters=[
                config("safety_monitor"),
                {"bundle": bundle, "start_pose": start_pose, "pose_topic": pose_topic, "use_stamped": use_stamped},
            ],
        ),
        Node(
            package="sim2real",
            executable="sim2real",
            name="recorder",
            namespace=namespace,
            arguments=["node", "recorder"],
            parameters=[config("recorder"), {"namespace": namespace, "use_stamped": use_stamped}],
        ),
    ])
