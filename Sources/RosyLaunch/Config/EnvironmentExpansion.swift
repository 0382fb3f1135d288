/// Expands `${VAR}` and `${VAR:-default}` in launch-file values (`$$` is a literal `$`).
/// Unknown variables expand to nothing, as in the shell.
///
/// ```swift
/// EnvironmentExpansion.expand("${HOME}/maps", in: ["HOME": "/root"])   // "/root/maps"
/// ```
public enum EnvironmentExpansion {
    public static func expand(_ text: String, in environment: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character); index = next; continue
            }
            if text[next] == "$" { result.append("$"); index = text.index(after: next); continue }
            guard text[next] == "{", let close = text[next...].firstIndex(of: "}") else {
                result.append(character); index = next; continue
            }
            let body = text[text.index(after: next)..<close]
            if let range = body.range(of: ":-") {
                let name = String(body[..<range.lowerBound])
                let value = environment[name] ?? ""
                result += value.isEmpty ? String(body[range.upperBound...]) : value
            } else {
                result += environment[String(body)] ?? ""
            }
            index = text.index(after: close)
        }
        return result
    }
}
