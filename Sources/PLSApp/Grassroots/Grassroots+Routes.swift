import Vapor
import PLSDomain

extension RouteGroups {
    /// Grassroots services: village legal advisers and their service log, the rosters, training.
    func grassroots() {
        let advisers = api.grouped("village-advisers")
        advisers.get("assignments", use: VillageAdviserController.apiAssignments)
        advisers.post("assignments", use: VillageAdviserController.apiAssign)
        advisers.post("assignments", ":id", "end", use: VillageAdviserController.apiEnd)
        advisers.get("services", use: VillageAdviserController.apiServices)
        advisers.post("services", use: VillageAdviserController.apiLog)
        advisers.get("services", "export.csv") { try await VillageAdviserController.apiExport($0, .csv) }
        advisers.get("services", "export.xlsx") { try await VillageAdviserController.apiExport($0, .xlsx) }
        advisers.grouped(SignedInFirst()).on(.POST, "services", "import", body: .collect(maxSize: "5mb"), use: VillageAdviserController.apiImport)
        advisers.post("services", ":id", "request", use: VillageAdviserController.apiToRequest)
        advisers.grouped(SignedInFirst()).on(.POST, "services", ":id", "photos", body: .stream, use: VillageAdviserController.apiAddPhotos)
        advisers.get("services", ":id", "photos", ":photoId", use: VillageAdviserController.apiPhoto)
        advisers.get("villages", use: VillageAdviserController.apiVillages)
        advisers.get("advisers", ":practitionerId", use: VillageAdviserController.apiAdviser)
        advisers.get("monthly", use: VillageAdviserController.apiMonthly)
        let rosters = api.grouped("rosters", ":kind")
        rosters.get(use: RosterController.apiList)
        rosters.post(use: RosterController.apiAdd)
        rosters.post(":id", "end", use: RosterController.apiEnd)
        rosters.get("export.csv") { try await RosterController.apiExport($0, .csv) }
        rosters.get("export.xlsx") { try await RosterController.apiExport($0, .xlsx) }
        rosters.get(":id", "work", use: TrainingController.apiWork)
        rosters.post(":id", "work", use: TrainingController.apiAddWork)
        api.get("trainings", use: TrainingController.apiList)
        api.post("trainings", use: TrainingController.apiCreate)
        api.post("trainings", ":id", "attendance", use: TrainingController.apiAttendance)
        rosters.grouped(SignedInFirst()).on(.POST, "import", body: .collect(maxSize: "5mb"), use: RosterController.apiImport)
        web.get("adviser", use: GrassrootsPages.log)
        web.grouped(SignedInFirst()).on(.POST, "adviser", body: .stream, use: GrassrootsPages.submit)
        web.get("adviser", "services", ":id", "photos", ":photoId", use: VillageAdviserController.apiPhoto)
        web.get("grassroots", use: GrassrootsPages.villages)
        web.get("grassroots", "advisers", ":practitionerId", use: GrassrootsPages.adviser)
        web.grouped(SignedInFirst()).on(.POST, "grassroots", "import", body: .stream, use: GrassrootsPages.importFile)
        web.get("grassroots", "services.csv") { try await GrassrootsPages.export($0, .csv) }
        web.get("grassroots", "services.xlsx") { try await GrassrootsPages.export($0, .xlsx) }
        web.get("rosters", use: RosterPages.list)
        web.post("rosters", ":kind", use: RosterPages.add)
        web.grouped(SignedInFirst()).on(.POST, "rosters", ":kind", "import", body: .stream, use: RosterPages.importFile)
        web.get("rosters", ":kind", ":id", "work", use: TrainingPages.work)
        web.post("rosters", ":kind", ":id", "work", use: TrainingPages.addWork)
        web.get("trainings", use: TrainingPages.list)
        web.post("trainings", use: TrainingPages.create)
        web.get("trainings", ":id", use: TrainingPages.session)
        web.post("trainings", ":id", "attendance", use: TrainingPages.attendance)
        web.get("rosters", ":kind", "export.csv") { try await RosterPages.export($0, .csv) }
        web.get("rosters", ":kind", "export.xlsx") { try await RosterPages.export($0, .xlsx) }
    }
}
