import RosyCLI

await RosyCommand.runAndExit()
