import CBlake2

/// The short hash of a domain id that names its DNS-SD service type, as rosy computes it:
/// BLAKE2b of the UTF-8 id with a 5-byte digest, in lowercase hex.
///
/// ```swift
/// DomainHash.hex(of: "default")          // "6b01bd89a8"
/// DomainHash.serviceType(for: "default") // "_rosy-6b01bd89a8._tcp"
/// ```
public enum DomainHash {
    /// The digest size rosy uses, in bytes.
    public static let digestSize = 5

    /// The lowercase hex of BLAKE2b(domainID, digest size 5).
    public static func hex(of domainID: String) -> String {
        let input = Array(domainID.utf8)
        var digest = [UInt8](repeating: 0, count: digestSize)
        let status = input.withUnsafeBytes { inputBytes in
            digest.withUnsafeMutableBytes { out in
                blake2b(out.baseAddress, inputBytes.baseAddress, nil, digestSize, inputBytes.count, 0)
            }
        }
        // libb2 fails only on invalid sizes, which are constants here.
        precondition(status == 0, "blake2b refused a 5-byte digest")
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// The DNS-SD service type of a domain, without the `.local` suffix: `_rosy-<hash>._tcp`.
    public static func serviceType(for domainID: String) -> String {
        "_rosy-\(hex(of: domainID))._tcp"
    }
}
