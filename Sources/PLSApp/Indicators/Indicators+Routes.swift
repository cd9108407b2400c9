import Vapor
import PLSDomain

extension RouteGroups {
    /// The indicators: computed per region with their targets, and the board.
    func indicators() {
        api.get("indicators", use: IndicatorController.apiList)
        api.get("indicators", ":id", "breakdown", use: IndicatorController.breakdown)
        admin.get("indicators", ":id", use: IndicatorPages.breakdown)
        api.put("indicators", ":id", "target", use: IndicatorTargets.apiSetTarget)
        admin.get("indicators", use: IndicatorPages.indicators)
        admin.post("indicators", ":id", "target", use: IndicatorPages.setTarget)
    }
}
