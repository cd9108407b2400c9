import Vapor
import PLSDomain

extension RouteGroups {
    /// People's mediation: cases and their steps, the network (committees, mediators, listening points), hotspots and
    /// statistics.
    func mediation() {
        let mediation = api.grouped("mediation")
        mediation.post("cases", use: MediationController.apiCreate)
        mediation.get("cases", ":id", use: MediationController.apiCase)
        for step in MediationCases.Step.allCases {
            mediation.post("cases", ":id", PathComponent(stringLiteral: step.rawValue), use: MediationController.step(step))
        }
        mediation.get("committees", "flagged", use: MediationController.apiFlagged)
        mediation.get("committees", ":id", use: MediationController.apiCommittee)
        mediation.put("committees", ":id", "members", use: MediationController.apiSaveMembers)
        mediation.put("mediators", ":practitionerId", use: MediationController.apiSaveMediator)
        mediation.get("listening-points", use: MediationController.apiPoints)
        mediation.post("listening-points", use: MediationController.apiCreatePoint)
        mediation.get("hotspots", use: MediationController.apiHotspots)
        mediation.get("statistics", use: MediationController.apiStatistics)
        web.get("mediation", use: MediationPages.network)
        web.get("mediation", "new", use: MediationPages.newForm)
        web.post("mediation", "new", use: MediationPages.create)
        web.get("mediation", "cases", ":id", "agreement", use: MediationPages.agreement)
        web.get("mediation", "committees", ":id", use: MediationPages.committee)
        web.post("work", ":id", "mediation", ":step", use: MediationPages.step)
    }
}
