// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package handler

import (
	"context"
	"fmt"
	"strings"

	"github.com/FerretDB/wire"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/handler/handlererrors"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// MsgCollMod implements `collMod` command.
//
// gridstream patch: collMod {viewOn, pipeline: []} re-points a view without a pipeline (see
// views.go); any other collMod stays not implemented.
//
// The passed context is canceled when the client connection is closed.
func (h *Handler) MsgCollMod(connCtx context.Context, msg *wire.OpMsg) (*wire.OpMsg, error) {
	document, err := opMsgDocument(msg)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	if !document.Has("viewOn") && !document.Has("pipeline") {
		return nil, handlererrors.NewCommandErrorMsg(
			handlererrors.ErrNotImplemented,
			"`collMod` command is not implemented yet",
		)
	}

	common.Ignored(document, h.L, "writeConcern", "comment")

	command := document.Command()

	for _, key := range document.Keys() {
		switch {
		case key == command, key == "viewOn", key == "pipeline", key == "writeConcern", key == "comment":
		case strings.HasPrefix(key, "$"), key == "lsid", key == "txnNumber", key == "maxTimeMS",
			key == "apiVersion", key == "apiStrict", key == "apiDeprecationErrors": // the driver's
		default:
			return nil, handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrNotImplemented,
				fmt.Sprintf("collMod option %q is not implemented yet (only viewOn and an empty pipeline are)", key),
				command,
			)
		}
	}

	dbName, err := common.GetRequiredParam[string](document, "$db")
	if err != nil {
		return nil, err
	}

	name, err := common.GetRequiredParam[string](document, command)
	if err != nil {
		return nil, err
	}

	db, err := h.b.Database(dbName)
	if err != nil {
		if backends.ErrorCodeIs(err, backends.ErrorCodeDatabaseNameIsInvalid) {
			msg := fmt.Sprintf("Invalid namespace specified '%s.%s'", dbName, name)
			return nil, handlererrors.NewCommandErrorMsgWithArgument(handlererrors.ErrInvalidNamespace, msg, command)
		}

		return nil, lazyerrors.Error(err)
	}

	if err = h.modifyView(connCtx, db, dbName, name, document); err != nil {
		return nil, err
	}

	return documentOpMsg(
		must.NotFail(types.NewDocument(
			"ok", float64(1),
		)),
	)
}
