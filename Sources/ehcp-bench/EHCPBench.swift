import ArgumentParser
import EHCPCommandLine

/// `ehcp-bench …`: benchmark programs, kept out of the product's `ehcp`. Each prints its figures beside a
/// baseline measured in the same run.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ehcp-bench", abstract: "Benchmarks (see docs/performance.md).",
        subcommands: [DomainBench.self, AppendBench.self, APIBench.self, SchedulerBench.self, ReportsBench.self, WebBench.self])
}

/// Latency samples and their summary.
struct Samples {
    private(set) var nanoseconds: [Int64] = []

    mutating func record(_ duration: Duration) {
        nanoseconds.append(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    mutating func merge(_ other: Samples) { nanoseconds += other.nanoseconds }

    func percentile(_ p: Double) -> Double {
        guard !nanoseconds.isEmpty else { return 0 }
        let sorted = nanoseconds.sorted()
        return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
    }

    var mean: Double { nanoseconds.isEmpty ? 0 : Double(nanoseconds.reduce(0, +)) / Double(nanoseconds.count) }
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    let scale = pow10(digits)
    return String(Double((value * scale).rounded()) / scale)
}

private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { value, _ in value * 10 } }
