#if canImport(Glibc)
import Glibc
#endif

/// Signal names as written in launch files (`stop_signal: SIGINT`).
enum SignalNames {
    static let all: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("USR2", SIGUSR2), ("TERM", SIGTERM), ("ALRM", SIGALRM), ("CONT", SIGCONT), ("STOP", SIGSTOP),
        ("WINCH", SIGWINCH), ("PWR", SIGPWR),
    ]

    static func number(of name: String) -> Int32? {
        all.first { $0.0 == name }?.1
    }

    static func name(of number: Int32) -> String {
        all.first { $0.1 == number }.map { "SIG\($0.0)" } ?? "signal \(number)"
    }
}
