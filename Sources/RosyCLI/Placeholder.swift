// RosyCLI
