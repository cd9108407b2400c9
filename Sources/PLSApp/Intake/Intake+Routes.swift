import Vapor
import PLSDomain

extension RouteGroups {
    /// One network for every matter: requests and their actions, the catalog and time limits, notifications; the
    /// portal, the work pages, the hotline and the window.
    func intake() {
        let requests = api.grouped("requests")
        requests.post(use: RequestController.apiCreate)
        requests.get(use: RequestController.apiList)
        requests.get("lookup", use: RequestController.apiLookup)
        requests.get("duplicates", use: RequestController.apiDuplicates)
        requests.post("bulk-assign", use: RequestController.apiBulkAssign)
        requests.get(":id", use: RequestController.apiGet)
        requests.get(":id", "candidates", use: RequestController.apiCandidates)
        for action in [RequestAction.accept, .reject, .assign, .start, .suspend, .resume, .transfer, .takeBack, .conclude] {
            requests.post(":id", PathComponent(stringLiteral: action.rawValue.replacingOccurrences(of: "_", with: "-")),
                          use: RequestController.action(action))
        }
        requests.post(":id", "evaluation", use: RequestController.apiEvaluate)
        requests.grouped(SignedInFirst()).on(.POST, ":id", "attachments", body: .stream, use: Attachments.apiUpload)
        requests.get(":id", "attachments", use: Attachments.apiList)
        requests.get(":id", "attachments", ":attachment", use: Attachments.apiDownload)
        api.get("catalog", use: Catalog.apiList)
        api.get("catalog", ":code", use: Catalog.apiGet)
        api.put("catalog", ":code", use: Catalog.apiUpdate)
        api.get("deadline-rules", use: Catalog.apiRules)
        api.put("deadline-rules", ":matterType", use: Catalog.apiUpdateRules)
        api.get("notifications", use: Notifications.apiList)
        api.post("notifications", ":id", "read", use: Notifications.apiMarkRead)
        web.get("services", use: PortalPages.catalog)
        web.get("services", ":code", use: PortalPages.guide)
        web.get("apply", ":code", use: PortalPages.applyForm)
        web.post("apply", ":code", use: PortalPages.apply)
        web.get("my", use: PortalPages.mine)
        web.get("my", ":number", use: PortalPages.myDetailPage)
        web.get("my", ":number", "receipt", use: PortalPages.receipt)
        web.get("work", ":id", "receipt", use: PortalPages.receipt)
        web.post("my", ":number", "evaluation", use: PortalPages.rate)
        web.grouped(SignedInFirst()).on(.POST, "my", ":number", "attachments", body: .stream, use: AttachmentPages.uploadFromPortal)
        web.get("my", ":number", "attachments", ":attachment", use: AttachmentPages.downloadFromPortal)
        web.get("lookup", use: PortalPages.lookup)
        web.get("rate", ":token", use: PortalPages.rateLinkPage)
        web.post("rate", ":token", use: PortalPages.rateLinkSubmit)
        web.get("work", use: WorkPages.queue)
        web.post("work", "bulk-assign", use: WorkPages.bulkAssign)
        web.get("work", ":id", use: WorkPages.detailPage)
        web.grouped(SignedInFirst()).on(.POST, "work", ":id", "attachments", body: .stream, use: AttachmentPages.uploadFromWork)
        web.get("work", ":id", "attachments", ":attachment", use: AttachmentPages.downloadFromWork)
        web.post("work", ":id", ":action", use: WorkPages.act)
        web.get("hotline", use: WorkPages.hotline)
        web.post("hotline", use: WorkPages.hotlineSubmit)
        web.get("window", use: WorkPages.window)
        web.post("window", use: WorkPages.windowSubmit)
        web.get("notifications", use: WorkPages.notifications)
        admin.get("catalog", use: CatalogPages.catalog)
        admin.get("catalog", ":code", use: CatalogPages.guideForm)
        admin.post("catalog", ":code", use: CatalogPages.saveGuide)
        admin.get("rules", use: CatalogPages.rulesPage)
        admin.post("rules", ":matterType", use: CatalogPages.saveRules)
    }
}
