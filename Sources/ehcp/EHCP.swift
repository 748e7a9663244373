import ArgumentParser

/// `ehcp`: the one executable. Each subcommand lives in its own file.
@main
struct EHCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ehcp",
        abstract: "The EHC needs assessment and plan case-workflow service.",
        subcommands: [
            ServeCommand.self, SchedulerCommand.self, ReportCommand.self, ExportCommand.self, MigrateCommand.self, ProjectionsCommand.self,
            DemoCommand.self, UsersCommand.self, TokensCommand.self, CouncilsCommand.self, ScenarioCommand.self,
        ]
    )
}
