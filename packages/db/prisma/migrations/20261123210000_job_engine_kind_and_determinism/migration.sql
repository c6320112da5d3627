-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "parentId" TEXT,
    "mode" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "promptUploadId" TEXT,
    "promptText" TEXT,
    "instruct" TEXT,
    "speakerId" TEXT,
    "speed" REAL NOT NULL DEFAULT 1,
    "seed" INTEGER NOT NULL,
    "engineId" TEXT NOT NULL,
    "engineKind" TEXT NOT NULL DEFAULT 'builtin',
    "engineVersion" TEXT NOT NULL,
    "deterministic" BOOLEAN NOT NULL DEFAULT true,
    "status" TEXT NOT NULL,
    "stage" TEXT,
    "stageIndex" INTEGER,
    "stageCount" INTEGER,
    "progressStep" INTEGER,
    "progressTotal" INTEGER,
    "progressPct" REAL,
    "etaMs" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "errorHint" TEXT,
    "outputPath" TEXT,
    "outputSampleRate" INTEGER,
    "outputDurationMs" INTEGER,
    "outputSha256" TEXT,
    "outputBytes" INTEGER,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Job_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Job" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Job_promptUploadId_fkey" FOREIGN KEY ("promptUploadId") REFERENCES "Upload" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Job" ("attempts", "cancelRequested", "createdAt", "engineId", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt") SELECT "attempts", "cancelRequested", "createdAt", "engineId", "engineVersion", "errorCode", "errorHint", "errorMessage", "etaMs", "finishedAt", "id", "instruct", "lastSeq", "mode", "outputBytes", "outputDurationMs", "outputPath", "outputSampleRate", "outputSha256", "parentId", "progressPct", "progressStep", "progressTotal", "promptText", "promptUploadId", "queuedAt", "seed", "speakerId", "speed", "stage", "stageCount", "stageIndex", "startedAt", "status", "text", "updatedAt" FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE INDEX "Job_status_id_idx" ON "Job"("status", "id");
CREATE INDEX "Job_status_queuedAt_id_idx" ON "Job"("status", "queuedAt", "id");
CREATE INDEX "Job_parentId_idx" ON "Job"("parentId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
