import RosyWire

/// What the commands accept as a topic name.
enum TopicName {
    /// A topic name `listen` takes: not empty, at most 255 bytes of UTF-8; else the reason.
    ///
    /// ```swift
    /// TopicName.problem(with: "")      // "the topic name is empty"
    /// TopicName.problem(with: "pose")  // nil
    /// ```
    static func problem(with topic: String) -> String? {
        if topic.isEmpty { return "the topic name is empty" }
        do {
            try FrameEncoder.validateName(topic)
        } catch {
            return "bad topic name: \(error)"
        }
        return nil
    }
}
