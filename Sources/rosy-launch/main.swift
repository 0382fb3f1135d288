import RosyLaunch

RosyLaunchCommand.main()
