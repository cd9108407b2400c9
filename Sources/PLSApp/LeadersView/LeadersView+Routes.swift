import Vapor

extension RouteGroups {
    /// The leaders' view: series, scorecards, monthly reports, the command screen, supply and demand, public figures.
    func leadersView() {
        api.get("indicators", ":id", "series", use: IndicatorSeries.series)
        api.get("scorecards", use: Scorecards.apiCard)
        api.get("scorecards", "weights", use: Scorecards.apiWeights)
        api.put("scorecards", "weights", use: Scorecards.apiSetWeights)
        admin.get("scorecards", use: Scorecards.page)
        admin.get("scorecards", "export.xlsx", use: Scorecards.export)
        admin.get("scorecards", "weights", use: Scorecards.weightsPage)
        admin.post("scorecards", "weights", use: Scorecards.weightsSubmit)

        api.get("reports", "monthly", use: MonthlyReports.list)
        api.get("reports", "monthly", ":month", use: MonthlyReports.apiReport)
        web.get("reports", "monthly", use: MonthlyReports.listPage)
        web.get("reports", "monthly", ":month", use: MonthlyReports.page)
        web.get("reports", "monthly", ":month", "export.xlsx", use: MonthlyReports.export)

        api.get("command", use: CommandScreen.api)
        web.get("command", use: CommandScreen.page)
        web.get("command", "panel", use: CommandScreen.panel)

        api.get("supply-demand", use: SupplyAndDemand.load)
        api.put("supply-demand", "targets", use: SupplyAndDemand.apiSetTargets)
        admin.get("supply-demand", use: SupplyAndDemand.page)
        admin.post("supply-demand", "targets", use: SupplyAndDemand.targetsSubmit)

        api.get("public", "statistics", use: PublicStatistics.load)
        web.get("statistics", use: PublicStatistics.page)
    }
}
