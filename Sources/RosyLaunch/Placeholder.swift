// RosyLaunch
