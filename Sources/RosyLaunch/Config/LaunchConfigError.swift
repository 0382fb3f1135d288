/// A launch file that cannot be used: says where and why, and suggests a fix when it can.
///
/// Printed as `robot.yaml:12:5: unknown key 'comand' in node 'camera' (did you mean 'command'?)`.
public struct LaunchConfigError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String

    public init(_ message: String, at location: SourceLocation?) {
        self.message = message
        self.location = location
    }

    /// The file name alone when nothing more precise is known.
    public init(_ message: String, file: String) {
        self.message = message
        self.location = SourceLocation(file: file, line: 0, column: 0)
    }

    public var description: String {
        guard let location else { return message }
        if location.line == 0 { return "\(location.file): \(message)" }
        return "\(location): \(message)"
    }
}

/// Finds the known word nearest to a misspelt one (Levenshtein distance).
enum Suggestion {
    /// The nearest of `candidates`, when it is close enough to be what was meant.
    static func nearest(to word: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        guard let best, best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
